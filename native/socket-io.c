// HTTP/1.1 socket I/O in C (docs/native-core.md, stage 2): JavaScript accepts or connects a
// plain TCP socket and keeps it for its addresses and its close; this file then reads and
// writes the socket's bytes, on Node's own libuv loop, instead of Node's stream machinery.
// It knows nothing of HTTP. The owner is src/proxy/network/native-socket.ts.
//
//   init(dispatch)                    dispatch(kind, id, a, b, turnBuffer) receives events
//   open(fd, id, lane) -> stream      dups fd; does not read until readStart
//   readStart(stream), readStop(stream)
//   write(stream, buffer | latin1 string) -> 1 while under the high-water mark, else 0
//   cork(stream), uncork(stream)      writes wait until the last uncork
//   end(stream)                       shutdown(SHUT_WR) once written; then EVENT_FINISH
//   pending(stream) -> bytes written and not yet sent
//   close(stream)                     stops now; unsent bytes are dropped; no more events
//
// Reads go in turn batches, as socket-read.ts does them in JavaScript: each ready socket is
// read once per loop turn, into one arena, and the check phase hands the turn's events to
// JavaScript: the upstream lane's first (responses), then the downstream lane's (requests),
// each in arrival order, with one call per event and one Buffer (the arena's copy) per
// turn; EVENT_DATA's a and b are the chunk's start and end in it. Writes made while a
// batch is handed over (or while corked) are sent after it, one send per socket; other
// writes are sent at once. What a socket does not take waits here (the socket is then
// polled for writability); EVENT_DRAIN follows, once it is all out, a write that went over
// the high-water mark (16 KiB, Node's default for sockets).
// Events: EVENT_DATA, EVENT_EOF (the peer's FIN), EVENT_DRAIN, EVENT_FINISH (our FIN is
// sent), EVENT_ERROR (a = errno; the socket stops: no reads, no writes).

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
#define HIGH_WATER_MARK 16384
// The read arena grows to hold one turn's reads; past this size it is freed after the turn.
#define ARENA_KEEP_BYTES (1 << 20)
#define LANES 2

enum { EVENT_DATA = 1, EVENT_EOF = 2, EVENT_DRAIN = 3, EVENT_FINISH = 4, EVENT_ERROR = 5 };

typedef struct io io_t;

typedef struct stream {
  uv_poll_t poll;  // first member: the poll handle's address is the stream's
  io_t *io;
  int fd;
  int32_t id;
  int lane;
  int reading;     // JavaScript wants reads
  int polled;      // the events the poll handle watches now
  int eof;         // the peer's FIN was read
  int failed;      // a read or write failed: nothing more is done
  int closed;      // close() was called
  int handle_closed, finalized;
  int queued;      // events queued that point at this stream
  int cork;        // cork() depth
  int dirty;       // on the io's list of streams to send after the batch
  int need_drain;  // a write went over the high-water mark
  int ending;      // end() called; shutdown once all is sent
  int shut;        // shutdown done
  char *out;       // bytes not yet sent
  size_t olen, ooff, ocap;
  struct stream *next_dirty;
} stream_t;

typedef struct {
  int kind;
  stream_t *s;
  int32_t a, b;
} event_t;

struct io {
  napi_env env;
  uv_loop_t *loop;
  napi_ref dispatch;
  napi_ref resource;
  napi_async_context async;
  uv_check_t check;
  uv_idle_t idle;  // while events wait: keeps the loop's poll from blocking
  int scheduled;
  int in_batch;
  event_t *events[LANES];
  size_t nevents[LANES], capevents[LANES];
  char *arena;  // the turn's reads
  size_t used, cap;
  stream_t *dirty;
};

static void on_poll(uv_poll_t *handle, int status, int events);

static void release_if_done(stream_t *s) {
  if (s->handle_closed && s->finalized && s->queued == 0) {
    free(s->out);
    free(s);
  }
}

static void on_idle(uv_idle_t *handle) { (void)handle; }

static void schedule(io_t *io) {
  if (io->scheduled) return;
  io->scheduled = 1;
  uv_idle_start(&io->idle, on_idle);
}

static int queue_event(io_t *io, stream_t *s, int kind, int32_t a, int32_t b) {
  int lane = s->lane;
  if (io->nevents[lane] == io->capevents[lane]) {
    size_t cap = io->capevents[lane] ? io->capevents[lane] * 2 : 64;
    event_t *grown = realloc(io->events[lane], cap * sizeof(event_t));
    if (grown == NULL) return -ENOMEM;
    io->events[lane] = grown;
    io->capevents[lane] = cap;
  }
  io->events[lane][io->nevents[lane]++] = (event_t){kind, s, a, b};
  s->queued++;
  schedule(io);
  return 0;
}

// Brings the poll handle's events in line with what the stream needs. Each change costs
// epoll_ctl calls, so a stream that stops reading keeps watching for readability (lazily,
// as libuv does for its own streams) until bytes actually arrive; readStart then costs
// nothing. `lazy`: a call from readStop.
static void watch_events(stream_t *s, int lazy) {
  if (s->closed || s->failed) return;
  int events = 0;
  if (s->reading && !s->eof) events |= UV_READABLE;
  if (s->ooff < s->olen) events |= UV_WRITABLE;
  if (lazy && !s->eof) events |= s->polled & UV_READABLE;
  if (events == s->polled) return;
  s->polled = events;
  if (events != 0)
    uv_poll_start(&s->poll, events, on_poll);
  else
    uv_poll_stop(&s->poll);
}

static void watch(stream_t *s) { watch_events(s, 0); }

enum { SYSCALL_READ = 1, SYSCALL_WRITE = 2 };

// The socket stops after a failed call: EVENT_ERROR tells JavaScript, which destroys it.
static void fail(stream_t *s, int err, int syscall) {
  if (s->failed || s->closed) return;
  s->failed = 1;
  s->polled = 0;
  uv_poll_stop(&s->poll);
  queue_event(s->io, s, EVENT_ERROR, err, syscall);
}

static int append_out(stream_t *s, const char *data, size_t n) {
  if (s->ooff > 0 && s->ooff == s->olen) s->ooff = s->olen = 0;
  if (s->olen + n > s->ocap) {
    size_t kept = s->olen - s->ooff;
    if (s->ooff > 0) {
      memmove(s->out, s->out + s->ooff, kept);
      s->ooff = 0;
      s->olen = kept;
    }
    if (kept + n > s->ocap) {
      size_t cap = s->ocap ? s->ocap : 4096;
      while (cap < kept + n) cap *= 2;
      char *grown = realloc(s->out, cap);
      if (grown == NULL) return -ENOMEM;
      s->out = grown;
      s->ocap = cap;
    }
  }
  memcpy(s->out + s->olen, data, n);
  s->olen += n;
  return 0;
}

// Sends what the socket takes of the pending bytes; then the FIN if end() asked for it.
static void send_pending(stream_t *s) {
  if (s->closed || s->failed) return;
  while (s->ooff < s->olen) {
    ssize_t w = send(s->fd, s->out + s->ooff, s->olen - s->ooff, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      fail(s, errno, SYSCALL_WRITE);
      return;
    }
    s->ooff += (size_t)w;
  }
  if (s->ooff < s->olen) {
    watch(s);
    return;
  }
  s->ooff = s->olen = 0;
  if (s->ocap > 65536) {  // a large burst is over: give its buffer back
    free(s->out);
    s->out = NULL;
    s->ocap = 0;
  }
  if (s->need_drain) {
    s->need_drain = 0;
    queue_event(s->io, s, EVENT_DRAIN, 0, 0);
  }
  if (s->ending && !s->shut) {
    s->shut = 1;
    shutdown(s->fd, SHUT_WR);
    queue_event(s->io, s, EVENT_FINISH, 0, 0);
  }
  watch(s);
}

static void mark_dirty(stream_t *s) {
  if (s->dirty) return;
  s->dirty = 1;
  s->queued++;  // the dirty list points at it too
  s->next_dirty = s->io->dirty;
  s->io->dirty = s;
}

static int held(stream_t *s) { return s->cork > 0 || s->io->in_batch; }

static void send_dirty(io_t *io) {
  while (io->dirty != NULL) {
    stream_t *s = io->dirty;
    io->dirty = s->next_dirty;
    s->dirty = 0;
    s->queued--;
    if (s->cork == 0) send_pending(s);
    release_if_done(s);
  }
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  stream_t *s = (stream_t *)handle;
  io_t *io = s->io;
  if (s->closed || s->failed) return;
  if (status < 0) {
    fail(s, poll_error(s->fd, status), SYSCALL_READ);
    return;
  }
  if (events & UV_WRITABLE) {
    if (s->cork == 0) send_pending(s);
    if (s->failed) return;
  }
  if ((events & UV_READABLE) && !s->reading) {
    watch(s);  // bytes arrived after readStop: stop watching for them now
    return;
  }
  if ((events & UV_READABLE) && !s->eof) {
    if (io->cap - io->used < READ_BYTES) {
      size_t cap = io->cap ? io->cap : 4 * READ_BYTES;
      while (cap - io->used < READ_BYTES) cap *= 2;
      char *grown = realloc(io->arena, cap);
      if (grown == NULL) {
        fail(s, ENOMEM, SYSCALL_READ);
        return;
      }
      io->arena = grown;
      io->cap = cap;
    }
    ssize_t n = recv(s->fd, io->arena + io->used, READ_BYTES, 0);
    if (n > 0) {
      queue_event(io, s, EVENT_DATA, (int32_t)io->used, (int32_t)(io->used + (size_t)n));
      io->used += (size_t)n;
    } else if (n == 0) {
      s->eof = 1;
      watch(s);
      queue_event(io, s, EVENT_EOF, 0, 0);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      fail(s, errno, SYSCALL_READ);
    }
  }
}

// The check phase: the turn's events go to JavaScript, then the writes they made go out.
static void on_check(uv_check_t *handle) {
  io_t *io = handle->data;
  if (!io->scheduled) return;
  io->scheduled = 0;
  uv_idle_stop(&io->idle);
  napi_env env = io->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, turn = NULL, argv[5];
  napi_get_reference_value(env, io->dispatch, &fn);
  napi_get_global(env, &recv);
  if (io->used > 0) napi_create_buffer_copy(env, io->used, io->arena, NULL, &turn);
  else napi_get_null(env, &turn);
  io->used = 0;
  if (io->cap > ARENA_KEEP_BYTES) {  // a burst of many large reads is over: give it back
    free(io->arena);
    io->arena = NULL;
    io->cap = 0;
  }
  argv[4] = turn;
  napi_callback_scope cbs;
  napi_value resource;
  napi_get_reference_value(env, io->resource, &resource);
  napi_open_callback_scope(env, resource, io->async, &cbs);
  io->in_batch = 1;
  for (int lane = 0; lane < LANES; lane++) {
    // Events queued meanwhile (a write failing is sent after the batch, so rarely) join in.
    for (size_t i = 0; i < io->nevents[lane]; i++) {
      event_t e = io->events[lane][i];
      stream_t *s = e.s;
      s->queued--;
      if (!s->closed) {
        napi_create_int32(env, e.kind, &argv[0]);
        napi_create_int32(env, s->id, &argv[1]);
        napi_create_int32(env, e.a, &argv[2]);
        napi_create_int32(env, e.b, &argv[3]);
        napi_value result;
        if (napi_call_function(env, recv, fn, 5, argv, &result) == napi_pending_exception) {
          napi_value ex;
          napi_get_and_clear_last_exception(env, &ex);
          napi_fatal_exception(env, ex);
        }
      }
      release_if_done(s);
    }
    io->nevents[lane] = 0;
  }
  // Closing the callback scope runs the nextTicks and promise jobs the events queued; their
  // writes still wait for the batch's end.
  napi_close_callback_scope(env, cbs);
  io->in_batch = 0;
  send_dirty(io);
  napi_close_handle_scope(env, scope);
}

static io_t *get_io(napi_env env) {
  void *data = NULL;
  napi_get_instance_data(env, &data);
  return data;
}

static void on_handle_closed(uv_handle_t *handle) {
  stream_t *s = (stream_t *)handle;
  s->handle_closed = 1;
  release_if_done(s);
}

// Stops the stream for good: no more polling or events; unsent bytes are dropped.
static void stop_stream(stream_t *s) {
  if (s->closed) return;
  s->closed = 1;
  uv_poll_stop(&s->poll);
  uv_close((uv_handle_t *)&s->poll, on_handle_closed);
  close(s->fd);
}

static void finalize_stream(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  stream_t *s = data;
  stop_stream(s);  // JavaScript let go without close(): stop it all the same
  s->finalized = 1;
  release_if_done(s);
}

static void free_io(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  io_t *io = data;
  uv_check_stop(&io->check);
  uv_idle_stop(&io->idle);
  // The handles are closed with the loop; their memory stays (the process is ending).
}

static napi_value init_io(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_valuetype type = napi_undefined;
  if (argc == 1) napi_typeof(env, argv[0], &type);
  if (type != napi_function) return throw_error(env, "init(dispatch): dispatch must be a function");
  if (get_io(env) != NULL) return throw_error(env, "init(): already initialised in this thread");
  io_t *io = calloc(1, sizeof(io_t));
  if (io == NULL) return throw_error(env, "init(): out of memory");
  io->env = env;
  napi_get_uv_event_loop(env, &io->loop);
  napi_create_reference(env, argv[0], 1, &io->dispatch);
  napi_value name;
  napi_create_string_utf8(env, "weft.socketIo", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &io->async);
  napi_value resource;
  napi_create_object(env, &resource);
  napi_create_reference(env, resource, 1, &io->resource);
  uv_check_init(io->loop, &io->check);
  io->check.data = io;
  uv_check_start(&io->check, on_check);
  uv_unref((uv_handle_t *)&io->check);
  uv_idle_init(io->loop, &io->idle);
  uv_unref((uv_handle_t *)&io->idle);
  napi_set_instance_data(env, io, free_io, NULL);
  return NULL;
}

// The stream in a call's first argument (of `want`), the arguments in argv; NULL if missing.
static stream_t *stream_arg(napi_env env, napi_callback_info info, napi_value *argv, size_t want) {
  return external_arg(env, info, argv, want);
}

static napi_value open_stream(napi_env env, napi_callback_info info) {
  io_t *io = get_io(env);
  if (io == NULL) return throw_error(env, "open(): call init(dispatch) first");
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd, id, lane;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_int32(env, argv[1], &id) != napi_ok || napi_get_value_int32(env, argv[2], &lane) != napi_ok ||
      lane < 0 || lane >= LANES)
    return throw_error(env, "open(fd, id, lane): integers, lane 0 or 1");
  stream_t *s = calloc(1, sizeof(stream_t));
  if (s == NULL) return throw_error(env, "open(): out of memory");
  s->io = io;
  s->id = id;
  s->lane = lane;
  s->fd = dup(fd);
  if (s->fd < 0 || uv_poll_init(io->loop, &s->poll, s->fd) != 0) {
    if (s->fd >= 0) close(s->fd);
    free(s);
    return throw_error(env, "open(): cannot watch the socket");
  }
  napi_value result;
  napi_create_external(env, s, finalize_stream, NULL, &result);
  return result;
}

static napi_value read_start(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  stream_t *s = stream_arg(env, info, argv, 1);
  if (s == NULL) return throw_error(env, "readStart(stream)");
  s->reading = 1;
  watch(s);
  return NULL;
}

static napi_value read_stop(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  stream_t *s = stream_arg(env, info, argv, 1);
  if (s == NULL) return throw_error(env, "readStop(stream)");
  s->reading = 0;
  watch_events(s, 1);
  return NULL;
}

static napi_value write_stream(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  stream_t *s = stream_arg(env, info, argv, 2);
  if (s == NULL) return throw_error(env, "write(stream, data)");
  napi_value ok;
  if (s->closed || s->failed || s->ending) {
    napi_get_boolean(env, 0, &ok);
    return ok;
  }
  napi_valuetype type;
  napi_typeof(env, argv[1], &type);
  char small[1024];
  char *data = NULL;
  size_t n = 0;
  char *heap = NULL;
  if (type == napi_string) {
    size_t len;
    napi_get_value_string_latin1(env, argv[1], NULL, 0, &len);
    data = len < sizeof small ? small : (heap = malloc(len + 1));
    if (data == NULL) return throw_error(env, "write(): out of memory");
    napi_get_value_string_latin1(env, argv[1], data, len + 1, &n);
  } else if (napi_get_buffer_info(env, argv[1], (void **)&data, &n) != napi_ok) {
    return throw_error(env, "write(stream, data): data must be a Buffer or a string");
  }
  size_t off = 0;
  if (!held(s) && s->ooff == s->olen) {
    while (off < n) {
      ssize_t w = send(s->fd, data + off, n - off, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) fail(s, errno, SYSCALL_WRITE);
        break;
      }
      off += (size_t)w;
    }
  }
  if (off < n && !s->failed) {
    if (append_out(s, data + off, n - off) < 0) fail(s, ENOMEM, SYSCALL_WRITE);
    else if (held(s))
      mark_dirty(s);
    else
      watch(s);
  }
  free(heap);
  int under = s->olen - s->ooff < HIGH_WATER_MARK;
  if (!under) s->need_drain = 1;
  napi_get_boolean(env, under && !s->failed, &ok);
  return ok;
}

static napi_value cork_stream(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  stream_t *s = stream_arg(env, info, argv, 1);
  if (s == NULL) return throw_error(env, "cork(stream)");
  s->cork++;
  return NULL;
}

static napi_value uncork_stream(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  stream_t *s = stream_arg(env, info, argv, 1);
  if (s == NULL) return throw_error(env, "uncork(stream)");
  if (s->cork > 0 && --s->cork == 0 && !s->io->in_batch) send_pending(s);
  return NULL;
}

static napi_value end_stream(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  stream_t *s = stream_arg(env, info, argv, 1);
  if (s == NULL) return throw_error(env, "end(stream)");
  if (s->ending || s->closed || s->failed) return NULL;
  s->ending = 1;
  if (held(s))
    mark_dirty(s);
  else
    send_pending(s);
  return NULL;
}

static napi_value pending_bytes(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  stream_t *s = stream_arg(env, info, argv, 1);
  if (s == NULL) return throw_error(env, "pending(stream)");
  napi_value result;
  napi_create_double(env, (double)(s->olen - s->ooff), &result);
  return result;
}

static napi_value close_stream(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  stream_t *s = stream_arg(env, info, argv, 1);
  if (s == NULL) return throw_error(env, "close(stream)");
  stop_stream(s);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"init", NULL, init_io, NULL, NULL, NULL, napi_default, NULL},
      {"open", NULL, open_stream, NULL, NULL, NULL, napi_default, NULL},
      {"readStart", NULL, read_start, NULL, NULL, NULL, napi_default, NULL},
      {"readStop", NULL, read_stop, NULL, NULL, NULL, napi_default, NULL},
      {"write", NULL, write_stream, NULL, NULL, NULL, napi_default, NULL},
      {"cork", NULL, cork_stream, NULL, NULL, NULL, napi_default, NULL},
      {"uncork", NULL, uncork_stream, NULL, NULL, NULL, napi_default, NULL},
      {"end", NULL, end_stream, NULL, NULL, NULL, napi_default, NULL},
      {"pending", NULL, pending_bytes, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_stream, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
