// The tcp_proxy byte path in C (docs/native-core.md, stage 1): once JavaScript has accepted
// a connection, chosen a host and connected, the two sockets' bytes are moved here, on
// Node's own libuv loop, instead of through Node's stream machinery. What the owner
// (src/proxy/network/native-relay.ts) gets:
//
//   start(fdDown, fdUp, early, onEvent) -> relay   dups both fds and relays until done;
//                                                 `early` (a Buffer or null) goes upstream first
//   counters(relay, Float64Array(7))              bytes down->up, bytes up->down, ms since
//                                                 the last byte, downstream reading paused /
//                                                 resumed, upstream reading paused / resumed
//   close(relay)                                  ends it now (idle timeout, shutdown)
//
// onEvent(kind, value): EVENT_FIRST_UPSTREAM_BYTE, EVENT_DOWNSTREAM_EOF, then exactly once
// EVENT_DONE with the reason (DONE_*) and, for an error, the errno in value >> 8.
//
// Semantics, as the JavaScript pump (byte-pump.ts) has them:
// - Backpressure: bytes that do not fit into a side's socket wait in that side's pending
//   buffer, and the side they came from is not read until they are out. So at most one
//   read (64 KiB) per direction is held here.
// - Half-close: a FIN read from one side becomes shutdown(SHUT_WR) on the other once its
//   pending bytes are out. When both directions are shut, the relay is done.
// - Errors: a failed read or write on either side ends the relay at once (both closed).
// The relay closes only its duplicated fds; the owner then destroys its two sockets.

#include <errno.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "addon-common.h"

#define READ_BYTES 65536
#define DOWN 0
#define UP 1

enum { EVENT_FIRST_UPSTREAM_BYTE = 1, EVENT_DOWNSTREAM_EOF = 2, EVENT_DONE = 3 };
enum { DONE_CLEAN = 0, DONE_DOWNSTREAM_ERROR = 1, DONE_UPSTREAM_ERROR = 2, DONE_CLOSED = 3 };

typedef struct relay relay_t;

typedef struct {
  uv_poll_t poll;  // first member: the poll handle's address is the side's
  relay_t *relay;
  int fd;
  int idx;
  int reading;  // poll this side for readability
  int eof;      // 0: open; 1: FIN read, not yet passed on; 2: passed on (other side shut)
  char *pend;   // bytes waiting to be written to this side
  size_t plen, poff;
} side_t;

struct relay {
  side_t s[2];
  double bytes[2];  // read from side i (and written or queued to the other)
  uint64_t last_activity;
  double paused[2], resumed[2];
  int first_upstream_byte;
  int done, closed_handles, finalized;
  int reason, err;
  uv_loop_t *loop;
  napi_env env;
  napi_ref on_event;
  napi_async_context async;
};

// One read buffer for every relay: a read is written out (or copied into a pending
// buffer) before the callback returns.
static char read_buffer[READ_BYTES];

static void on_poll(uv_poll_t *handle, int status, int events);

static void emit(relay_t *r, int kind, double value) {
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, argv[2];
  if (napi_get_reference_value(env, r->on_event, &fn) == napi_ok && fn != NULL) {
    napi_get_global(env, &recv);
    napi_create_int32(env, kind, &argv[0]);
    napi_create_double(env, value, &argv[1]);
    napi_value result;
    // make_callback, not call_function: nextTicks and promises queued by the owner run.
    if (napi_make_callback(env, r->async, recv, fn, 2, argv, &result) == napi_pending_exception) {
      napi_value ex;
      napi_get_and_clear_last_exception(env, &ex);
      napi_fatal_exception(env, ex);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void release(relay_t *r) {
  for (int i = 0; i < 2; i++) free(r->s[i].pend);
  free(r);
}

static void on_handle_closed(uv_handle_t *handle) {
  relay_t *r = ((side_t *)handle)->relay;
  if (++r->closed_handles < 2) return;
  emit(r, EVENT_DONE, (double)(r->reason | (r->err << 8)));
  napi_delete_reference(r->env, r->on_event);
  napi_async_destroy(r->env, r->async);
  r->on_event = NULL;
  if (r->finalized) release(r);
}

static void finish(relay_t *r, int reason, int err) {
  if (r->done) return;
  r->done = 1;
  r->reason = reason;
  r->err = err;
  for (int i = 0; i < 2; i++) {
    uv_poll_stop(&r->s[i].poll);
    uv_close((uv_handle_t *)&r->s[i].poll, on_handle_closed);
    close(r->s[i].fd);
  }
}

// Ends the relay after an error on side `side` (errno `err`).
static void fail(relay_t *r, int side, int err) {
  finish(r, side == DOWN ? DONE_DOWNSTREAM_ERROR : DONE_UPSTREAM_ERROR, err);
}

static void watch(relay_t *r, int i) {
  side_t *s = &r->s[i];
  int events = 0;
  if (s->reading) events |= UV_READABLE;
  if (s->poff < s->plen) events |= UV_WRITABLE;
  if (events != 0)
    uv_poll_start(&s->poll, events, on_poll);
  else
    uv_poll_stop(&s->poll);
}

// Writes what it can of the side's pending bytes; -errno on failure.
static int flush_pending(side_t *s) {
  while (s->poff < s->plen) {
    ssize_t w = send(s->fd, s->pend + s->poff, s->plen - s->poff, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      return -errno;
    }
    s->poff += (size_t)w;
  }
  s->poff = s->plen = 0;
  return 0;
}

// Sends `data` to side `to`, keeping what does not fit; -errno on failure.
static int send_to(relay_t *r, int to, const char *data, size_t n) {
  side_t *s = &r->s[to];
  size_t off = 0;
  if (s->poff == s->plen) {
    while (off < n) {
      ssize_t w = send(s->fd, data + off, n - off, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return -errno;
      }
      off += (size_t)w;
    }
  }
  if (off == n) return 0;
  size_t kept = s->plen - s->poff, more = n - off;
  char *buf = malloc(kept + more);
  if (buf == NULL) return -ENOMEM;
  if (kept > 0) memcpy(buf, s->pend + s->poff, kept);
  memcpy(buf + kept, data + off, more);
  free(s->pend);
  s->pend = buf;
  s->plen = kept + more;
  s->poff = 0;
  return 0;
}

// Passes side i's FIN on to the other side once nothing is pending there.
static void pass_eof(relay_t *r, int i) {
  side_t *s = &r->s[i], *o = &r->s[1 - i];
  if (s->eof != 1 || o->poff < o->plen) return;
  shutdown(o->fd, SHUT_WR);
  s->eof = 2;
  if (o->eof == 2) finish(r, DONE_CLEAN, 0);
}

static void pause_reading(relay_t *r, int i) {
  if (!r->s[i].reading) return;
  r->s[i].reading = 0;
  r->paused[i]++;
  watch(r, i);
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  side_t *s = (side_t *)handle;
  relay_t *r = s->relay;
  int i = s->idx, o = 1 - i;
  if (r->done) return;
  if (status < 0) {
    fail(r, i, poll_error(s->fd, status));
    return;
  }
  if (events & UV_WRITABLE) {
    int rc = flush_pending(s);
    if (rc < 0) {
      fail(r, i, -rc);
      return;
    }
    if (s->poff == s->plen) {
      side_t *from = &r->s[o];
      if (from->eof == 0 && !from->reading) {
        from->reading = 1;
        r->resumed[o]++;
        watch(r, o);
      }
      pass_eof(r, o);
      if (r->done) return;
    }
    watch(r, i);
  }
  if ((events & UV_READABLE) && s->reading) {
    ssize_t n = recv(s->fd, read_buffer, READ_BYTES, 0);
    if (n > 0) {
      r->last_activity = uv_now(r->loop);
      r->bytes[i] += (double)n;
      if (i == UP && !r->first_upstream_byte) {
        r->first_upstream_byte = 1;
        emit(r, EVENT_FIRST_UPSTREAM_BYTE, 0);
        if (r->done) return;
      }
      int rc = send_to(r, o, read_buffer, (size_t)n);
      if (rc < 0) {
        fail(r, o, -rc);
        return;
      }
      if (r->s[o].poff < r->s[o].plen) {
        pause_reading(r, i);
        watch(r, o);
      }
    } else if (n == 0) {
      s->eof = 1;
      s->reading = 0;
      watch(r, i);
      if (i == DOWN) emit(r, EVENT_DOWNSTREAM_EOF, 0);
      if (r->done) return;
      pass_eof(r, i);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      fail(r, i, errno);
    }
  }
}

static void finalize_relay(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  relay_t *r = data;
  r->finalized = 1;
  if (r->closed_handles == 2) release(r);
}


static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fds[2];
  if (argc < 4 || napi_get_value_int32(env, argv[0], &fds[0]) != napi_ok ||
      napi_get_value_int32(env, argv[1], &fds[1]) != napi_ok)
    return throw_error(env, "start(fdDown, fdUp, early, onEvent): fds must be integers");
  napi_valuetype type;
  napi_typeof(env, argv[3], &type);
  if (type != napi_function) return throw_error(env, "start(): onEvent must be a function");
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_error(env, "start(): no event loop");

  relay_t *r = calloc(1, sizeof(relay_t));
  if (r == NULL) return throw_error(env, "start(): out of memory");
  r->env = env;
  r->loop = loop;
  r->last_activity = uv_now(loop);
  for (int i = 0; i < 2; i++) {
    side_t *s = &r->s[i];
    s->relay = r;
    s->idx = i;
    s->reading = 1;
    s->fd = dup(fds[i]);
    if (s->fd < 0 || uv_poll_init(loop, &s->poll, s->fd) != 0) {
      if (s->fd >= 0) close(s->fd);
      if (i == 1) {
        uv_close((uv_handle_t *)&r->s[0].poll, NULL);
        close(r->s[0].fd);
      }
      // The first handle (if any) closes on the next loop turn: free the memory then.
      napi_throw_error(env, NULL, "start(): cannot watch the sockets");
      return NULL;
    }
  }
  napi_value name;
  napi_create_string_utf8(env, "weft.tcpRelay", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &r->async);
  napi_create_reference(env, argv[3], 1, &r->on_event);

  napi_value result;
  napi_create_external(env, r, finalize_relay, NULL, &result);

  napi_typeof(env, argv[2], &type);
  if (type != napi_null && type != napi_undefined) {
    void *early = NULL;
    size_t n = 0;
    if (napi_get_buffer_info(env, argv[2], &early, &n) == napi_ok && n > 0) {
      r->bytes[DOWN] += (double)n;
      int rc = send_to(r, UP, early, n);
      if (rc < 0) {
        fail(r, UP, -rc);
        return result;
      }
      if (r->s[UP].poff < r->s[UP].plen) pause_reading(r, DOWN);
    }
  }
  watch(r, DOWN);
  watch(r, UP);
  return result;
}

// The relay in a call's first argument (of `want`), the arguments in argv; NULL if missing.
static relay_t *relay_arg(napi_env env, napi_callback_info info, napi_value *argv, size_t want) {
  return external_arg(env, info, argv, want);
}

static napi_value counters(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  relay_t *r = relay_arg(env, info, argv, 2);
  if (r == NULL) return throw_error(env, "counters(relay, Float64Array(7))");
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || length < 7)
    return throw_error(env, "counters(): the second argument must be a Float64Array of 7");
  double *out = data;
  out[0] = r->bytes[DOWN];
  out[1] = r->bytes[UP];
  out[2] = (double)(uv_now(r->loop) - r->last_activity);
  out[3] = r->paused[DOWN];
  out[4] = r->resumed[DOWN];
  out[5] = r->paused[UP];
  out[6] = r->resumed[UP];
  return NULL;
}

static napi_value close_relay(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  relay_t *r = relay_arg(env, info, argv, 1);
  if (r == NULL) return throw_error(env, "close(relay)");
  finish(r, DONE_CLOSED, 0);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"start", NULL, start, NULL, NULL, NULL, napi_default, NULL},
      {"counters", NULL, counters, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_relay, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
