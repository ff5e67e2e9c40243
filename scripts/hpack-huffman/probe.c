#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
typedef struct nghttp2_hd_deflater nghttp2_hd_deflater;
typedef struct { uint8_t *name; uint8_t *value; size_t namelen; size_t valuelen; uint8_t flags; } nghttp2_nv;
int nghttp2_hd_deflate_new(nghttp2_hd_deflater **d, size_t max);
ssize_t nghttp2_hd_deflate_hd(nghttp2_hd_deflater *d, uint8_t *buf, size_t buflen, const nghttp2_nv *nva, size_t nvlen);
void nghttp2_hd_deflate_del(nghttp2_hd_deflater *d);
int main(void) {
  /* For each symbol and K = 16..23: the HPACK block for x: '0'*K + symbol, never indexed. */
  for (int sym = 0; sym < 256; sym++) {
    for (int k = 16; k <= 23; k++) {
      nghttp2_hd_deflater *d; nghttp2_hd_deflate_new(&d, 4096);
      uint8_t value[32]; memset(value, '0', k); value[k] = (uint8_t)sym;
      nghttp2_nv nv = { (uint8_t *)"x", value, 1, (size_t)k + 1, 1 };
      uint8_t out[256]; ssize_t n = nghttp2_hd_deflate_hd(d, out, sizeof out, &nv, 1);
      printf("%d %d", sym, k);
      for (ssize_t i = 0; i < n; i++) printf(" %02x", out[i]);
      printf("\n");
      nghttp2_hd_deflate_del(d);
    }
  }
  return 0;
}
