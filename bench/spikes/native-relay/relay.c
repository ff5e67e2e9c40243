// A measured spike, not part of Weft: a TCP byte relay written in C, loaded into a Node
// process as an N-API addon and run on Node's own libuv loop (uv_poll on duplicates of the
// two sockets' fds). It answers one question for issue 2: how much of the gap between a
// Node relay and haproxy is Node's socket layer. docs/benchmarks.md, "The thirteenth
// round", has the numbers; README.md next to this file says how to build and run it.
//
// relay(fdA, fdB, onDone): bytes read from either side are written to the other at once
// (what does not fit waits, and its source stops being read until it is out); a FIN
// becomes shutdown(SHUT_WR) on the other side once its pending bytes are out; both FINs,
// or any error, close both duplicates and call onDone(). No timers, stats or TLS.
#include <node_api.h>
#include <uv.h>
#include <unistd.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BUF 65536
typedef struct pair pair_t;
typedef struct { uv_poll_t poll; int fd; int idx; int eof; int reading; char *pend; size_t plen, poff; } side_t;
struct pair { side_t s[2]; pair_t *self; int closing; int closed_handles; napi_env env; napi_ref cb; };
static char rbuf[BUF];

static void on_poll(uv_poll_t *h, int status, int events);

static void update(pair_t *p, int i) {
  side_t *s = &p->s[i];
  int ev = 0;
  if (s->reading) ev |= UV_READABLE;
  if (s->plen > s->poff) ev |= UV_WRITABLE;
  if (ev) uv_poll_start(&s->poll, ev, on_poll); else uv_poll_stop(&s->poll);
}

static void on_closed(uv_handle_t *h) {
  pair_t *p = (pair_t *)h->data;
  if (++p->closed_handles < 2) return;
  napi_env env = p->env;
  napi_handle_scope scope; napi_open_handle_scope(env, &scope);
  napi_value cb, undef; napi_get_reference_value(env, p->cb, &cb); napi_get_undefined(env, &undef);
  napi_call_function(env, undef, cb, 0, NULL, NULL);
  napi_delete_reference(env, p->cb);
  napi_close_handle_scope(env, scope);
  for (int i = 0; i < 2; i++) free(p->s[i].pend);
  free(p);
}

static void finish(pair_t *p) {
  if (p->closing) return;
  p->closing = 1;
  for (int i = 0; i < 2; i++) { uv_poll_stop(&p->s[i].poll); close(p->s[i].fd); uv_close((uv_handle_t *)&p->s[i].poll, on_closed); }
}

// Writes data to side o; keeps what does not fit; returns -1 on error.
static int send_to(pair_t *p, int o, const char *data, size_t n) {
  side_t *s = &p->s[o];
  size_t off = 0;
  if (s->plen == s->poff) {
    while (off < n) {
      ssize_t w = write(s->fd, data + off, n - off);
      if (w < 0) { if (errno == EINTR) continue; if (errno == EAGAIN) break; return -1; }
      off += (size_t)w;
    }
  }
  if (off < n) {
    size_t left = s->plen - s->poff, add = n - off;
    char *nb = malloc(left + add);
    if (left) memcpy(nb, s->pend + s->poff, left);
    memcpy(nb + left, data + off, add);
    free(s->pend); s->pend = nb; s->plen = left + add; s->poff = 0;
  }
  return 0;
}

static void on_poll(uv_poll_t *h, int status, int events) {
  side_t *s = (side_t *)h; pair_t *p = (pair_t *)h->data; int i = s->idx, o = 1 - i;
  if (p->closing) return;
  if (status < 0) { finish(p); return; }
  if (events & UV_WRITABLE) {
    while (s->poff < s->plen) {
      ssize_t w = write(s->fd, s->pend + s->poff, s->plen - s->poff);
      if (w < 0) { if (errno == EINTR) continue; if (errno == EAGAIN) break; finish(p); return; }
      s->poff += (size_t)w;
    }
    if (s->poff == s->plen) {
      s->poff = s->plen = 0;
      if (p->s[o].eof == 1) { shutdown(s->fd, SHUT_WR); p->s[o].eof = 2; }
      if (!p->s[o].eof) { p->s[o].reading = 1; update(p, o); }
    }
    update(p, i);
  }
  if ((events & UV_READABLE) && s->reading) {
    ssize_t n = read(s->fd, rbuf, BUF);
    if (n > 0) {
      if (send_to(p, o, rbuf, (size_t)n) < 0) { finish(p); return; }
      if (p->s[o].plen > p->s[o].poff) { s->reading = 0; update(p, o); update(p, i); }
    } else if (n == 0) {
      s->eof = 1; s->reading = 0;
      if (p->s[o].plen == p->s[o].poff) { shutdown(p->s[o].fd, SHUT_WR); s->eof = 2; }
      update(p, i);
      if (p->s[o].eof == 2 && s->eof == 2) { finish(p); return; }
    } else if (errno != EAGAIN && errno != EINTR) { finish(p); return; }
  }
}

// relay(fdA, fdB, onDone): dups both fds and relays bytes both ways until both ends closed.
static napi_value relay(napi_env env, napi_callback_info info) {
  size_t argc = 3; napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fa, fb; napi_get_value_int32(env, argv[0], &fa); napi_get_value_int32(env, argv[1], &fb);
  uv_loop_t *loop; napi_get_uv_event_loop(env, &loop);
  pair_t *p = calloc(1, sizeof(pair_t));
  p->env = env; napi_create_reference(env, argv[2], 1, &p->cb);
  int fds[2] = { dup(fa), dup(fb) };
  for (int i = 0; i < 2; i++) {
    side_t *s = &p->s[i]; s->fd = fds[i]; s->idx = i; s->reading = 1;
    uv_poll_init(loop, &s->poll, s->fd); s->poll.data = p;
  }
  update(p, 0); update(p, 1);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn; napi_create_function(env, "relay", NAPI_AUTO_LENGTH, relay, NULL, &fn);
  napi_set_named_property(env, exports, "relay", fn);
  return exports;
}
NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
