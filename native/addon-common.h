// Helpers shared by Weft's N-API addons (tcp-relay.c, socket-io.c): arguments (each
// addon's objects cross into JavaScript as externals and come back as a call's first
// argument), and the real error behind a failed poll.
#ifndef WEFT_ADDON_COMMON_H
#define WEFT_ADDON_COMMON_H

#include <node_api.h>
#include <stddef.h>
#include <sys/socket.h>

// Throws a JavaScript Error with `message`; returns NULL for the caller to return.
static inline napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

// The external in a call's first argument (of exactly `want`), the arguments in argv;
// NULL when an argument is missing or the first one is not an external.
static inline void *external_arg(napi_env env, napi_callback_info info, napi_value *argv, size_t want) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *data = NULL;
  if (argc != want || napi_get_value_external(env, argv[0], &data) != napi_ok) return NULL;
  return data;
}

// The errno behind a poll callback's negative `status`. libuv reports a socket error
// (POLLERR) as UV_EBADF: the socket itself knows the real one (SO_ERROR).
static inline int poll_error(int fd, int status) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err == 0) err = -status;
  return err;
}

#endif
