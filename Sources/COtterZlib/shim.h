#ifndef OTTER_CZLIB_SHIM_H
#define OTTER_CZLIB_SHIM_H
#include <zlib.h>

// deflateInit2 is a macro that passes the header version and struct size; Swift cannot expand it.
static inline int otter_deflate_init_gzip(z_stream *s, int level) {
    return deflateInit2(s, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
}
static inline int otter_inflate_init_gzip(z_stream *s) {
    return inflateInit2(s, 15 + 16);
}
#endif
