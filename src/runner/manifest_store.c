/* SPDX-License-Identifier: MIT */
/*
 * The manifests a run's sandboxes are made from, stored with the run
 * (docs/durability.md, "The run's manifest"): each agent's manifest file is
 * put in the journal's blobs, named by its SHA-256, and run.started maps its
 * path to the hash; later sandboxes of the run (rehydration, resume) are made
 * from the stored text, whatever the file holds by then.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridle/manifest.h"
#include "runner/runner.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/fd.h"

#define MANIFEST_MAX ((size_t)8 * 1024 * 1024)

static void sha256_hex(const void *data, size_t len, char out[65])
{
        struct sha256_ctx c;
        uint8_t d[SHA256_DIGEST_SIZE];
        sha256_init(&c);
        sha256_update(&c, len, data);
        sha256_digest(&c, sizeof(d), d);
        for (size_t i = 0; i < sizeof(d); i++)
                (void)snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int bridle__run_store_manifests(bridle__run *R, json_t **ret, bridle_error *err)
{
        json_t *map = json_object();
        if (!map)
                return bridle__err(err, -ENOMEM, "manifests");
        const char *name;
        json_t *a;
        int r = 0;
        json_object_foreach(json_object_get(R->def, "agents"), name, a) {
                const char *path = json_string_value(json_object_get(a, "manifest"));
                if (!path || json_object_get(map, path))
                        continue;
                char *data = NULL;
                size_t len = 0;
                if ((r = bridle__read_file(AT_FDCWD, path, MANIFEST_MAX, &data, &len)) < 0) {
                        r = bridle__err(err, r, "agent '%s': manifest '%s'", name, path);
                        break;
                }
                char hash[65];
                sha256_hex(data, len, hash);
                r = bridle__journal_put_blob(R->j, hash, data, len, err);
                free(data);
                if (r < 0 || (r = json_object_set_new(map, path, json_string(hash))) < 0) {
                        if (r != 0 && (!err || !err->code))
                                r = bridle__err(err, -ENOMEM, "manifests");
                        break;
                }
        }
        if (r < 0) {
                json_decref(map);
                return r;
        }
        *ret = map;
        return 0;
}

int bridle__run_manifest_load(bridle__run *R, const char *path, bridle_manifest **ret, bridle_error *err)
{
        const char *hash = json_string_value(json_object_get(json_object_get(R->st.started, "manifests"), path));
        if (!hash) /* a run from before manifests were stored */
                return bridle_manifest_load(path, ret, err);
        char *data = NULL;
        size_t len = 0;
        int r = bridle__journal_get_blob(R->j, hash, &data, &len, err);
        if (r < 0)
                return bridle__err_prefix(err, "run '%s': its manifest '%s'", R->id, path);
        char dir[4096];
        (void)snprintf(dir, sizeof(dir), "%s", path);
        r = bridle_manifest_parse(data, len, path, dirname(dir), ret, err);
        free(data);
        return r;
}

int bridle__run_manifests_text(bridle__journal *j, const json_t *started, char **ret, bridle_error *err)
{
        json_t *map = json_object_get(started, "manifests");
        const char *path;
        json_t *h;
        size_t total = 0;
        char *out = bridle__strdup("");
        if (!out)
                return bridle__err(err, -ENOMEM, "manifest");
        json_object_foreach(map, path, h) {
                char *data = NULL;
                size_t len = 0;
                int r = bridle__journal_get_blob(j, json_string_value(h), &data, &len, err);
                if (r < 0) {
                        free(out);
                        return r;
                }
                char head[4300];
                int hn = snprintf(head, sizeof(head), "# %s (sha256 %s)\n", path, json_string_value(h));
                char *n = bridle__realloc(out, total + (size_t)hn + len + 2);
                if (!n) {
                        free(data);
                        free(out);
                        return bridle__err(err, -ENOMEM, "manifest");
                }
                out = n;
                memcpy(out + total, head, (size_t)hn);
                total += (size_t)hn;
                memcpy(out + total, data, len);
                total += len;
                if (len && data[len - 1] != '\n')
                        out[total++] = '\n';
                out[total] = '\0';
                free(data);
        }
        *ret = out;
        return 0;
}
