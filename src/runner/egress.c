/* SPDX-License-Identifier: MIT */
/*
 * The runner's network egress (policy `network: {mode: allowlist}`): the
 * proxy (include/bridle/sandbox.h, "Network egress") runs in a thread of the
 * harness for as long as the run's process lives, in a directory of its own
 * ($BRIDLE_HOME/egress/<run id>), so a resumed run starts it again where the
 * sandbox's bridge looks for it. Hosts are decided by the policy; every
 * connection is reported from the proxy's threads into a queue that the run's
 * own thread writes as egress.connection events at its next step.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/runner.h"
#include "sandbox/living.h"
#include "util/error.h"

static bool allow_host(void *ud, const char *host)
{
        const bridle__run *R = ud;
        return bridle__policy_host_allowed(R->policy, host);
}

static void report(void *ud, const bridle_egress_conn *c)
{
        bridle__run *R = ud;
        json_t *d = json_pack("{s:s,s:s,s:i,s:s,s:I,s:I,s:b,s:i,s:s,s:I}", "method", c->method ?: "", "host",
                              c->host ?: "", "port", (int)c->port, "address", c->address ?: "", "bytes_up",
                              (json_int_t)c->bytes_up, "bytes_down", (json_int_t)c->bytes_down, "allowed", c->allowed,
                              "status", c->status, "reason", c->reason ?: "", "ms", (json_int_t)c->ms);
        if (!d)
                return;
        pthread_mutex_lock(&R->egress_mu);
        if (!R->egress_queue)
                R->egress_queue = json_array();
        if (!R->egress_queue || json_array_append_new(R->egress_queue, d) < 0)
                json_decref(d);
        pthread_mutex_unlock(&R->egress_mu);
}

bool bridle__run_wants_egress(const bridle__run *R)
{
        return R->policy && bridle__policy_settings_get(R->policy)->network == BRIDLE__NETWORK_ALLOWLIST;
}

int bridle__run_egress_start(bridle__run *R, bridle_error *err)
{
        if (R->egress || !bridle__run_wants_egress(R))
                return 0;
        char home[3072];
        int r = bridle__home(home, sizeof(home), err);
        if (r < 0)
                return r;
        (void)snprintf(R->egress_dir, sizeof(R->egress_dir), "%s/egress", home);
        if ((r = bridle__mkdirs(R->egress_dir, 0700)) < 0)
                return bridle__err(err, r, "make '%s'", R->egress_dir);
        (void)snprintf(R->egress_dir, sizeof(R->egress_dir), "%s/egress/%s", home, R->id);
        const char *tm = getenv("BRIDLE_TESTING") && !strcmp(getenv("BRIDLE_TESTING"), "1")
                                 ? getenv("BRIDLE_EGRESS_TEST_MAP")
                                 : NULL;
        bridle_egress_opts o = { .dir = R->egress_dir, .allow = allow_host, .allow_data = R, .report = report,
                                 .report_data = R, .test_map = tm };
        return bridle_egress_start(&o, &R->egress, err);
}

void bridle__run_egress_flush(bridle__run *R)
{
        if (!R->egress)
                return;
        pthread_mutex_lock(&R->egress_mu);
        json_t *q = R->egress_queue;
        R->egress_queue = NULL;
        pthread_mutex_unlock(&R->egress_mu);
        size_t i;
        json_t *d;
        json_array_foreach(q, i, d)(void) bridle__run_emit_sync(R, "egress.connection", json_incref(d), false, NULL);
        json_decref(q);
}

void bridle__run_egress_stop(bridle__run *R)
{
        if (!R->egress)
                return;
        R->egress = bridle_egress_stop(R->egress);
        /* A run that ended for good needs its directory no more (a stopped one
         * keeps it: its sandbox's bridge looks there when it resumes). */
        if (R->st.status == BRIDLE_RUN_COMPLETED || R->st.status == BRIDLE_RUN_FAILED) {
                char sock[4300];
                (void)snprintf(sock, sizeof(sock), "%s/%s", R->egress_dir, BRIDLE_EGRESS_SOCKET);
                (void)unlink(sock);
                (void)rmdir(R->egress_dir);
        }
        pthread_mutex_lock(&R->egress_mu);
        json_decref(R->egress_queue);
        R->egress_queue = NULL;
        pthread_mutex_unlock(&R->egress_mu);
}
