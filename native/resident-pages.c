// Lets a long-running Weft process give back the pages of the node binary that only its
// start-up touched (docs/native-core.md, "Resident memory").
//
// The node executable is ~95 MB of code and read-only data, mapped from the file. Start-up
// (V8's snapshot, module loading, config parsing, the first compiles) touches much of it,
// and on each page fault the kernel maps up to 16 neighbouring pages already in the page
// cache ("fault-around"). A proxy idling after start-up has ~43 MB of the binary resident,
// while its steady state runs in about half of that.
//
// releaseFilePages() tells the kernel that these mappings are read at random
// (MADV_RANDOM: no fault-around, no readahead), then drops them from this process's page
// tables (MADV_DONTNEED). The pages stay in the page cache; the next access maps that one
// page back (a minor fault). It takes every read-only mapping of a regular file: the
// executable's code and read-only data, and the same of the shared libraries (libc, and
// libnode where Node is built as one). Only mappings that are not writable and hold no
// private (copy-on-write) pages qualify: for them MADV_DONTNEED cannot lose data, since
// every page is the file's own. RELRO (relocated, then made read-only) has private pages
// and is left alone, as are .data and .bss.
//
// Linux only (/proc/self/smaps); elsewhere it releases nothing.

#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_RANGES 512

typedef struct {
  unsigned long start, end;
  unsigned long rss_kb, anonymous_kb;
} mapping_t;

// Whether a mapping qualifies by its header: a regular file's (not a device, not a deleted
// file, not [heap]/[stack]/[vdso] or an anonymous mapping), and not writable.
static int is_candidate(const char *perms, const char *path) {
  if (perms[1] == 'w' || path[0] != '/' || strncmp(path, "/dev/", 5) == 0) return 0;
  return strstr(path, " (deleted)") == NULL;
}

// Reads this process's read-only file mappings from /proc/self/smaps into `out`; returns
// how many (at most MAX_RANGES), or -1 when smaps cannot be read.
static int read_mappings(mapping_t *out) {
  FILE *f = fopen("/proc/self/smaps", "r");
  if (f == NULL) return -1;
  char line[4096];
  int n = 0;
  mapping_t *cur = NULL;
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long start, end, kb;
    char perms[8];
    int path_at = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &path_at) == 3 && path_at > 0) {
      // A mapping's header line: "start-end perms offset dev inode [path]".
      cur = NULL;
      char *path = line + path_at;
      path[strcspn(path, "\n")] = '\0';
      if (!is_candidate(perms, path) || n == MAX_RANGES) continue;
      cur = &out[n++];
      cur->start = start;
      cur->end = end;
      cur->rss_kb = 0;
      cur->anonymous_kb = 0;
    } else if (cur != NULL && sscanf(line, "Rss: %lu kB", &kb) == 1) {
      cur->rss_kb = kb;
    } else if (cur != NULL && sscanf(line, "Anonymous: %lu kB", &kb) == 1) {
      cur->anonymous_kb = kb;
    }
  }
  fclose(f);
  return n;
}

// releaseFilePages() -> { mappings, residentBytes }: how many mappings were released
// and how many of their bytes were resident before.
static napi_value release_file_pages(napi_env env, napi_callback_info info) {
  (void)info;
  unsigned long mappings = 0, resident_kb = 0;
  static mapping_t ranges[MAX_RANGES];
  int n = read_mappings(ranges);
  for (int i = 0; i < n; i++) {
    mapping_t *m = &ranges[i];
    if (m->anonymous_kb != 0) continue;  // copy-on-write pages: dropping them would lose data
    void *addr = (void *)m->start;
    size_t size = m->end - m->start;
    if (madvise(addr, size, MADV_RANDOM) != 0 || madvise(addr, size, MADV_DONTNEED) != 0) continue;
    mappings++;
    resident_kb += m->rss_kb;
  }
  napi_value result, v;
  napi_create_object(env, &result);
  napi_create_uint32(env, (uint32_t)mappings, &v);
  napi_set_named_property(env, result, "mappings", v);
  napi_create_double(env, (double)resident_kb * 1024, &v);
  napi_set_named_property(env, result, "residentBytes", v);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"releaseFilePages", NULL, release_file_pages, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
