/* SPDX-License-Identifier: MIT */
/* The metadata entry (.bridle-snapshot.json): JSON encode, decode, checks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <jansson.h>

#include "snapshot/internal.h"
#include "util/cleanup.h"
#include "util/error.h"

const char *const bridle__snap_opaque_xattr[3] = {NULL, SNAP_XATTR_TRUSTED, SNAP_XATTR_USER};

static bool id_valid(const char *id)
{
        size_t n = strnlen(id, 65);
        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = id[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_'))
                        return false;
        }
        return true;
}

static int make_id(char id[65])
{
        uint8_t raw[16];
        if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
                return -errno;
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < sizeof(raw); i++) {
                id[2 * i] = hex[raw[i] >> 4];
                id[2 * i + 1] = hex[raw[i] & 15];
        }
        id[2 * sizeof(raw)] = '\0';
        return 0;
}

int bridle__snap_meta_prepare(struct bridle__snapshot_meta *m, bridle_error *err)
{
        if (strnlen(m->label, sizeof(m->label)) >= sizeof(m->label))
                return bridle__err(err, BRIDLE_E_INVALID, "snapshot label is not terminated");
        if (m->id[0] == '\0') {
                int r = make_id(m->id);
                if (r < 0)
                        return bridle__err(err, r, "snapshot id");
        } else if (!id_valid(m->id)) {
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "snapshot id must be 1-64 of [A-Za-z0-9_-]");
        }
        if (m->created == 0)
                m->created = (int64_t)time(NULL);
        if (m->created < 0)
                return bridle__err(err, BRIDLE_E_INVALID, "snapshot time is negative");
        return 0;
}

static int manifest_value(const char *text, json_t **ret, bridle_error *err)
{
        if (!text) {
                *ret = json_null();
                return 0;
        }
        json_error_t jerr;
        json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
        if (!j || !json_is_object(j)) {
                json_decref(j);
                return bridle__err(err, BRIDLE_E_INVALID, "snapshot manifest is not a JSON object");
        }
        *ret = j;
        return 0;
}

int bridle__snap_meta_encode(const struct bridle__snapshot_meta *m, char **ret, size_t *ret_len,
                             bridle_error *err)
{
        json_t *manifest = NULL;
        int r = manifest_value(m->manifest_json, &manifest, err);
        if (r < 0)
                return r;
        /* "o" steals manifest, even when packing fails. */
        _cleanup_(json_decrefp) json_t *root = json_pack(
                "{s:s, s:i, s:s, s:s, s:I, s:b, s:I, s:I, s:o}", "format", SNAP_FORMAT_NAME,
                "version", SNAP_FORMAT_VERSION, "id", m->id, "label", m->label, "created",
                (json_int_t)m->created, "full", m->full, "files", (json_int_t)m->files, "bytes",
                (json_int_t)m->bytes, "manifest", manifest);
        if (!root)
                return bridle__err(err, BRIDLE_E_INVALID, "snapshot metadata: label is not UTF-8");
        char *s = json_dumps(root, JSON_COMPACT);
        if (!s)
                return bridle__err(err, -ENOMEM, "snapshot metadata");
        *ret_len = strlen(s);
        *ret = s;
        return 0;
}

struct meta_fields {
        const char *format, *id, *label;
        int version, full;
        json_int_t created, files, bytes;
        json_t *manifest;
};

static int meta_check(const struct meta_fields *f, bridle_error *err)
{
        if (strcmp(f->format, SNAP_FORMAT_NAME) != 0)
                return bridle__err(err, BRIDLE_E_INVALID, "metadata: format is not '%s'",
                                   SNAP_FORMAT_NAME);
        if (f->version != SNAP_FORMAT_VERSION)
                return bridle__err(err, BRIDLE_E_UNSUPPORTED,
                                   "metadata: format version %d is not supported", f->version);
        if (!id_valid(f->id))
                return bridle__err(err, BRIDLE_E_INVALID, "metadata: bad id");
        if (strlen(f->label) >= sizeof(((struct bridle__snapshot_meta *)0)->label))
                return bridle__err(err, BRIDLE_E_INVALID, "metadata: label longer than 255 bytes");
        if (f->created < 0 || f->files < 0 || f->bytes < 0 ||
            (uint64_t)f->files > BRIDLE__SNAPSHOT_MAX_ENTRIES)
                return bridle__err(err, BRIDLE_E_INVALID, "metadata: bad time or counts");
        if (!json_is_object(f->manifest) && !json_is_null(f->manifest))
                return bridle__err(err, BRIDLE_E_INVALID, "metadata: manifest is not an object");
        return 0;
}

int bridle__snap_meta_decode(const char *buf, size_t len, struct bridle__snapshot_meta *ret,
                             bridle_error *err)
{
        json_error_t jerr;
        _cleanup_(json_decrefp) json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return bridle__err(err, BRIDLE_E_INVALID, "metadata: %s", jerr.text);
        struct meta_fields f = {0};
        if (json_unpack_ex(root, &jerr, 0, "{s:s, s:i, s:s, s:s, s:I, s:b, s:I, s:I, s:o}",
                           "format", &f.format, "version", &f.version, "id", &f.id, "label",
                           &f.label, "created", &f.created, "full", &f.full, "files", &f.files,
                           "bytes", &f.bytes, "manifest", &f.manifest) < 0)
                return bridle__err(err, BRIDLE_E_INVALID, "metadata: %s", jerr.text);
        int r = meta_check(&f, err);
        if (r < 0)
                return r;
        char *manifest = NULL;
        if (json_is_object(f.manifest)) {
                manifest = json_dumps(f.manifest, JSON_COMPACT);
                if (!manifest)
                        return bridle__err(err, -ENOMEM, "metadata");
        }
        struct bridle__snapshot_meta m = {.created = f.created,
                                          .full = f.full,
                                          .files = (uint64_t)f.files,
                                          .bytes = (uint64_t)f.bytes,
                                          .manifest_json = manifest};
        memcpy(m.id, f.id, strlen(f.id) + 1);          /* checked: at most 64 */
        memcpy(m.label, f.label, strlen(f.label) + 1); /* checked: at most 255 */
        *ret = m;
        return 0;
}

void bridle__snapshot_meta_release(struct bridle__snapshot_meta *m)
{
        if (!m)
                return;
        free(m->manifest_json);
        *m = (struct bridle__snapshot_meta){0};
}
