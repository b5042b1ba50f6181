/* SPDX-License-Identifier: MIT */
/* The "scripted" provider: entry req->turn_index of the script, as written. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model/model_internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

static int64_t num(const json_t *o, const char *key)
{
        json_int_t v = json_integer_value(json_object_get(o, key));
        return v > 0 ? (int64_t)v : 0;
}

/* The same callbacks a streamed response makes: text, then the item. */
static void replay(const json_t *items, const bridle__model_events *ev)
{
        if (!ev)
                return;
        size_t i, k;
        const json_t *item, *part;
        json_array_foreach(items, i, item)
        {
                const char *type = json_string_value(json_object_get(item, "type"));
                if (ev->text_delta && type && strcmp(type, "message") == 0)
                        json_array_foreach(json_object_get(item, "content"), k, part)
                        {
                                const json_t *t = json_object_get(part, "text");
                                const char *pt = json_string_value(json_object_get(part, "type"));
                                if (json_is_string(t) && pt && strcmp(pt, "output_text") == 0)
                                        ev->text_delta(ev->ud, json_string_value(t),
                                                       json_string_length(t));
                        }
                if (ev->item_done)
                        ev->item_done(ev->ud, item);
        }
}

int bridle__scripted_call(const bridle__model_cfg *cfg, const bridle__model_req *req,
                          const bridle__model_events *ev, bridle__model_resp *resp,
                          bridle_error *err)
{
        size_t n = json_array_size(cfg->script);
        if (req->turn_index >= n) {
                (void)snprintf(resp->error_class, sizeof(resp->error_class), "script");
                return bridle__err(err, BRIDLE_E_MODEL, "script '%s' has no turn %u (it has %zu)",
                                   cfg->script_name ? cfg->script_name : "<script>",
                                   req->turn_index + 1, n);
        }
        const json_t *entry = json_array_get(cfg->script, req->turn_index);
        const json_t *items = json_is_array(entry) ? entry : json_object_get(entry, "items");
        const json_t *u = json_object_get(entry, "usage");
        _cleanup_(json_decrefp) json_t *out = json_deep_copy(items);
        char *id = NULL;
        if (!out || asprintf(&id, "scripted-%u", req->turn_index + 1) < 0)
                return bridle__err(err, -ENOMEM, "scripted provider");
        replay(out, ev);
        resp->output = TAKE_PTR(out);
        resp->response_id = id;
        resp->usage = (bridle__model_usage){
                .input_tokens = num(u, "input_tokens"),
                .cached_tokens = num(u, "cached_tokens"),
                .output_tokens = num(u, "output_tokens"),
                .reasoning_tokens = num(u, "reasoning_tokens"),
        };
        return 0;
}
