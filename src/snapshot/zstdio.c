/* SPDX-License-Identifier: MIT */
/*
 * The zstd layer under libarchive: the tar stream is compressed and
 * decompressed here, with 128 KiB buffers, one frame with a content
 * checksum, single-threaded. libarchive only sees the tar bytes.
 */
#define ZSTD_STATIC_LINKING_ONLY  /* ZSTD_createCCtx_advanced: allocations through bridle__malloc  \
                                   */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot/archive_dl.h"
#include <zstd.h>
#include <zstd_errors.h>

#include "snapshot/internal.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/fd.h"

/* Bytes of decompressed data allowed after the tar end before the frame ends. */
#define SNAP_MAX_TRAILER ((size_t)16 << 20)

struct snap_zout {
        int fd;
        ZSTD_CCtx *cctx;
        uint8_t *out;
        int code;
};

struct snap_zin {
        int fd;
        ZSTD_DCtx *dctx;
        uint8_t *in, *out;
        ZSTD_inBuffer inb;
        bool in_eof, frame_done;
        int code;
        char msg[160];
};

static void *zalloc(void *opaque, size_t size)
{
        return bridle__malloc(size);
}

static void zfree(void *opaque, void *p)
{
        free(p);
}

static const ZSTD_customMem zmem = {zalloc, zfree, NULL};

/* ---- writing ---- */

static int zout_flush(struct snap_zout *z, ZSTD_outBuffer *ob)
{
        if (ob->pos == 0)
                return 0;
        int r = bridle__write_full(z->fd, ob->dst, ob->pos);
        ob->pos = 0;
        return r;
}

/* Compress in (may be empty) with the given directive until it is consumed
 * and, for ZSTD_e_end, the frame is complete. */
static int zout_feed(struct snap_zout *z, const void *buf, size_t len, ZSTD_EndDirective mode)
{
        ZSTD_inBuffer in = {buf, len, 0};
        ZSTD_outBuffer ob = {z->out, SNAP_BUF_SIZE, 0};
        for (;;) {
                size_t left = ZSTD_compressStream2(z->cctx, &ob, &in, mode);
                if (ZSTD_isError(left))
                        return ZSTD_getErrorCode(left) == ZSTD_error_memory_allocation
                                       ? -ENOMEM
                                       : BRIDLE_E_INVALID;
                bool done = mode == ZSTD_e_end ? left == 0 : in.pos == in.size;
                if (ob.pos == ob.size || done) {
                        int r = zout_flush(z, &ob);
                        if (r < 0)
                                return r;
                }
                if (done)
                        return 0;
        }
}

static la_ssize_t zout_write(struct archive *a, void *ud, const void *buf, size_t len)
{
        struct snap_zout *z = ud;
        int r = zout_feed(z, buf, len, ZSTD_e_continue);
        if (r < 0) {
                z->code = r;
                archive_set_error(a, r > -1000 ? -r : EIO, "zstd: compressing");
                return -1;
        }
        return (la_ssize_t)len;
}

static struct snap_zout *zout_new(int fd, uint64_t size_hint)
{
        struct snap_zout *z = bridle__calloc(1, sizeof(*z));
        if (!z)
                return NULL;
        z->fd = fd;
        z->out = bridle__malloc(SNAP_BUF_SIZE);
        z->cctx = ZSTD_createCCtx_advanced(zmem);
        if (!z->out || !z->cctx ||
            ZSTD_isError(
                    ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, SNAP_ZSTD_LEVEL)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_nbWorkers, 0)) ||
            (size_hint && size_hint < (1u << 30) &&
             ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_srcSizeHint, (int)size_hint)))) {
                bridle__snap_zout_free(NULL, z);
                return NULL;
        }
        return z;
}

static int archive_fail(struct archive *a, bridle_error *err, const char *what)
{
        int e = archive_errno(a);
        const char *s = archive_error_string(a);
        return bridle__err(err, e == ENOMEM ? -ENOMEM : BRIDLE_E_INVALID, "%s: %s", what,
                           s ? s : "libarchive error");
}

static int zout_setup(struct archive *a, struct snap_zout *z, bridle_error *err)
{
        if (archive_write_set_format_pax(a) != ARCHIVE_OK ||
            archive_write_add_filter_none(a) != ARCHIVE_OK ||
            /* Names as raw bytes: no locale conversion on either side. */
            archive_write_set_format_option(a, "pax", "hdrcharset", "BINARY") != ARCHIVE_OK ||
            archive_write_set_bytes_per_block(a, 10240) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK)
                return archive_fail(a, err, "archive setup");
        if (archive_write_open(a, z, NULL, zout_write, NULL) != ARCHIVE_OK) {
                if (z->code < 0)
                        return bridle__err(err, z->code, "writing the archive");
                return archive_fail(a, err, "archive open");
        }
        return 0;
}

int bridle__snap_zout_open(int fd, uint64_t size_hint, struct archive **ret_a, struct snap_zout **ret_z,
                           bridle_error *err)
{
        struct snap_zout *z = zout_new(fd, size_hint);
        if (!z)
                return bridle__err(err, -ENOMEM, "zstd compressor");
        struct archive *a = archive_write_new();
        if (!a) {
                bridle__snap_zout_free(NULL, z);
                return bridle__err(err, -ENOMEM, "archive writer");
        }
        int r = zout_setup(a, z, err);
        if (r < 0) {
                bridle__snap_zout_free(a, z);
                return r;
        }
        *ret_a = a;
        *ret_z = z;
        return 0;
}

int bridle__snap_zout_close(struct archive *a, struct snap_zout *z, bridle_error *err)
{
        int r = 0;
        if (archive_write_close(a) != ARCHIVE_OK)
                r = z->code < 0 ? bridle__err(err, z->code, "writing the archive")
                                : archive_fail(a, err, "closing the archive");
        if (r == 0) {
                r = zout_feed(z, NULL, 0, ZSTD_e_end);
                if (r < 0)
                        (void)bridle__err(err, r, "writing the archive");
        }
        bridle__snap_zout_free(a, z);
        return r;
}

void bridle__snap_zout_free(struct archive *a, struct snap_zout *z)
{
        if (a)
                (void)archive_write_free(a);
        if (!z)
                return;
        ZSTD_freeCCtx(z->cctx);
        free(z->out);
        free(z);
}

/* ---- reading ---- */

static int zin_fail(struct snap_zin *z, int code, const char *msg)
{
        if (z->code == 0) {
                z->code = code;
                (void)snprintf(z->msg, sizeof(z->msg), "%s", msg);
        }
        return code;
}

static int zin_refill(struct snap_zin *z)
{
        ssize_t n = bridle__read_full(z->fd, z->in, SNAP_BUF_SIZE);
        if (n < 0)
                return zin_fail(z, (int)n, "reading");
        z->inb = (ZSTD_inBuffer){z->in, (size_t)n, 0};
        if (n == 0)
                z->in_eof = true;
        return 0;
}

/* Decompress up to one buffer; 0 bytes once the frame has ended. */
static ssize_t zin_next(struct snap_zin *z)
{
        ZSTD_outBuffer ob = {z->out, SNAP_BUF_SIZE, 0};
        while (ob.pos == 0 && !z->frame_done) {
                if (z->inb.pos == z->inb.size && !z->in_eof && zin_refill(z) < 0)
                        return z->code;
                size_t before = z->inb.pos;
                size_t ret = ZSTD_decompressStream(z->dctx, &ob, &z->inb);
                if (ZSTD_isError(ret) && ZSTD_getErrorCode(ret) == ZSTD_error_memory_allocation)
                        return zin_fail(z, -ENOMEM, "zstd");
                if (ZSTD_isError(ret)) {
                        char m[160];
                        (void)snprintf(m, sizeof(m), "corrupt (zstd: %s)", ZSTD_getErrorName(ret));
                        return zin_fail(z, BRIDLE_E_INVALID, m);
                }
                if (ret == 0)
                        z->frame_done = true;
                else if (z->in_eof && ob.pos == 0 && z->inb.pos == before)
                        return zin_fail(z, BRIDLE_E_INVALID, "truncated");
        }
        return (ssize_t)ob.pos;
}

static la_ssize_t zin_read(struct archive *a, void *ud, const void **buf)
{
        struct snap_zin *z = ud;
        ssize_t n = zin_next(z);
        if (n < 0) {
                archive_set_error(a, EIO, "%s", z->msg);
                return -1;
        }
        *buf = z->out;
        return n;
}

/* The frame must start with zstd's magic and have the content-checksum flag. */
static int zin_check_header(struct snap_zin *z)
{
        if (zin_refill(z) < 0)
                return z->code;
        const uint8_t *p = z->in;
        if (z->inb.size < 5 || p[0] != 0x28 || p[1] != 0xb5 || p[2] != 0x2f || p[3] != 0xfd)
                return zin_fail(z, BRIDLE_E_INVALID, "not a snapshot archive (no zstd frame)");
        if (!(p[4] & 0x04))
                return zin_fail(z, BRIDLE_E_INVALID,
                                "not a snapshot archive (zstd frame without checksum)");
        return 0;
}

static struct snap_zin *zin_new(int fd)
{
        struct snap_zin *z = bridle__calloc(1, sizeof(*z));
        if (!z)
                return NULL;
        z->fd = -EBADF;
        z->in = bridle__malloc(SNAP_BUF_SIZE);
        z->out = bridle__malloc(SNAP_BUF_SIZE);
        z->dctx = ZSTD_createDCtx_advanced(zmem);
        if (!z->in || !z->out || !z->dctx) {
                bridle__snap_zin_free(NULL, z);
                return NULL;
        }
        z->fd = fd;
        return z;
}

int bridle__snap_zin_error(struct archive *a, struct snap_zin *z, const char *what,
                           bridle_error *err)
{
        if (z->code < 0)
                return bridle__err(err, z->code, "%s: %s", what, z->msg);
        return archive_fail(a, err, what);
}

static int zin_start(struct archive *a, struct snap_zin *z, bridle_error *err)
{
        int r = zin_check_header(z);
        if (r < 0)
                return bridle__err(err, r, "%s", z->msg);
        if (archive_read_support_format_tar(a) != ARCHIVE_OK)
                return archive_fail(a, err, "archive setup");
        if (archive_read_open(a, z, NULL, zin_read, NULL) != ARCHIVE_OK)
                return bridle__snap_zin_error(a, z, "not a snapshot archive", err);
        return 0;
}

int bridle__snap_zin_open(int fd, struct archive **ret_a, struct snap_zin **ret_z,
                          bridle_error *err)
{
        struct snap_zin *z = zin_new(fd);
        if (!z) {
                bridle__close(fd);
                return bridle__err(err, -ENOMEM, "zstd decompressor");
        }
        struct archive *a = archive_read_new();
        if (!a) {
                bridle__snap_zin_free(NULL, z);
                return bridle__err(err, -ENOMEM, "archive reader");
        }
        int r = zin_start(a, z, err);
        if (r < 0) {
                bridle__snap_zin_free(a, z);
                return r;
        }
        *ret_a = a;
        *ret_z = z;
        return 0;
}

int bridle__snap_zin_finish(struct snap_zin *z, bridle_error *err)
{
        size_t drained = 0;
        while (!z->frame_done) {
                ssize_t n = zin_next(z);
                if (n < 0)
                        return bridle__err(err, z->code, "%s", z->msg);
                drained += (size_t)n;
                if (drained > SNAP_MAX_TRAILER)
                        return bridle__err(err, BRIDLE_E_INVALID,
                                           "corrupt (data after the archive end)");
        }
        if (z->inb.pos == z->inb.size && !z->in_eof && zin_refill(z) < 0)
                return bridle__err(err, z->code, "%s", z->msg);
        if (z->inb.pos < z->inb.size)
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "corrupt (trailing data after the zstd frame)");
        return 0;
}

void bridle__snap_zin_free(struct archive *a, struct snap_zin *z)
{
        if (a)
                (void)archive_read_free(a);
        if (!z)
                return;
        ZSTD_freeDCtx(z->dctx);
        if (z->fd >= 0)
                bridle__close(z->fd);
        free(z->in);
        free(z->out);
        free(z);
}
