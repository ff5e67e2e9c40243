// Spike (relay.mjs, MODE=coffs and MODE=csplit): an HTTP/1 head split in C. No validation:
// it measures what crossing into JavaScript costs, with strings or with offsets only.
//
//   split(buffer) -> [start line, name, value, name, value, ...]  names lower-cased
//   offsets(buffer) -> count; offs (an Int32Array shared with C) holds [start, end) pairs:
//                      the start line's, then each name's and each value's

#include <node_api.h>
#include <stdint.h>

#define MAX_OFFSETS 256

static int32_t *offs;

static int head_buffer(napi_env env, napi_callback_info info, uint8_t **p, size_t *n) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  return argc == 1 && napi_get_buffer_info(env, argv[0], (void **)p, n) == napi_ok;
}

static size_t line_end(const uint8_t *p, size_t i, size_t n) {
  while (i < n && p[i] != '\r') i++;
  return i;
}

static napi_value split(napi_env env, napi_callback_info info) {
  uint8_t *p;
  size_t n;
  napi_value arr, s;
  if (!head_buffer(env, info, &p, &n)) return NULL;
  napi_create_array(env, &arr);
  uint32_t k = 0;
  size_t e = line_end(p, 0, n);
  napi_create_string_latin1(env, (char *)p, e, &s);
  napi_set_element(env, arr, k++, s);
  char lower[256];
  for (size_t i = e + 2; i + 1 < n && p[i] != '\r';) {
    size_t c = i;
    while (c < n && p[c] != ':') c++;
    size_t len = c - i < sizeof lower ? c - i : sizeof lower - 1;
    for (size_t j = 0; j < len; j++) lower[j] = p[i + j] >= 'A' && p[i + j] <= 'Z' ? p[i + j] + 32 : p[i + j];
    napi_create_string_latin1(env, lower, len, &s);
    napi_set_element(env, arr, k++, s);
    size_t v = c + 1;
    while (v < n && p[v] == ' ') v++;
    size_t l = line_end(p, v, n);
    napi_create_string_latin1(env, (char *)p + v, l - v, &s);
    napi_set_element(env, arr, k++, s);
    i = l + 2;
  }
  return arr;
}

static napi_value offsets(napi_env env, napi_callback_info info) {
  uint8_t *p;
  size_t n;
  napi_value r;
  if (!head_buffer(env, info, &p, &n)) return NULL;
  int32_t k = 0;
  size_t e = line_end(p, 0, n);
  offs[k++] = 0;
  offs[k++] = (int32_t)e;
  for (size_t i = e + 2; i + 1 < n && p[i] != '\r' && k + 4 <= MAX_OFFSETS;) {
    size_t c = i;
    while (c < n && p[c] != ':') c++;
    offs[k++] = (int32_t)i;
    offs[k++] = (int32_t)c;
    size_t v = c + 1;
    while (v < n && p[v] == ' ') v++;
    size_t l = line_end(p, v, n);
    offs[k++] = (int32_t)v;
    offs[k++] = (int32_t)l;
    i = l + 2;
  }
  napi_create_int32(env, k, &r);
  return r;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value ab, ta, f;
  napi_create_arraybuffer(env, MAX_OFFSETS * sizeof(int32_t), (void **)&offs, &ab);
  napi_create_typedarray(env, napi_int32_array, MAX_OFFSETS, ab, 0, &ta);
  napi_set_named_property(env, exports, "offs", ta);
  napi_create_function(env, "split", NAPI_AUTO_LENGTH, split, NULL, &f);
  napi_set_named_property(env, exports, "split", f);
  napi_create_function(env, "offsets", NAPI_AUTO_LENGTH, offsets, NULL, &f);
  napi_set_named_property(env, exports, "offsets", f);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
