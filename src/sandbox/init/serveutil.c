/* SPDX-License-Identifier: MIT */
/* What serve.c (commands) and session.c (sessions) share. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "sandbox/init/init.h"

#define MAX_TREE 4096

uint64_t init_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int init_send_all(int fd, const uint8_t *b, size_t n)
{
        while (n) {
                ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -EPIPE;
                b += k;
                n -= (size_t)k;
        }
        return 0;
}

int init_send_frame(int fd, bridle__plan *p, enum bridle__msg type, uint32_t id)
{
        int n = bridle__wire_finish(p, type, id);
        int r = n < 0 ? n : fd >= 0 ? init_send_all(fd, p->buf, (size_t)n) : 0;
        bridle__plan_release(p);
        return r;
}

void init_send_error(int fd, uint32_t id, int code, const char *msg)
{
        bridle__plan p;
        bridle__wire_begin(&p);
        bridle__plan_add(&p, BRIDLE__OP_ERROR, "ius", code, 0, msg);
        (void)init_send_frame(fd, &p, BRIDLE__MSG_ERROR, id);
}

/* Every descendant of pid (through the main threads' children lists). */
static size_t descendants(pid_t pid, pid_t *out, size_t cap)
{
        size_t n = 0;
        out[n++] = pid;
        for (size_t i = 0; i < n && n < cap; i++) {
                char path[64], buf[4096];
                (void)snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)out[i], (int)out[i]);
                FILE *f = fopen(path, "re");
                if (!f)
                        continue;
                if (fgets(buf, sizeof(buf), f))
                        for (char *t = strtok(buf, " \n"); t && n < cap; t = strtok(NULL, " \n"))
                                out[n++] = (pid_t)atoi(t);
                (void)fclose(f);
        }
        return n;
}

void init_kill_tree(pid_t pid)
{
        static pid_t tree[MAX_TREE];
        size_t n = descendants(pid, tree, MAX_TREE);
        (void)kill(-pid, SIGKILL);
        for (size_t i = 0; i < n; i++)
                (void)kill(tree[i], SIGKILL);
}

char **init_build_env(char *const *base, size_t nbase, char **extra, size_t nextra)
{
        char **env = calloc(nbase + nextra + 1, sizeof(char *));
        if (!env)
                return NULL;
        size_t n = 0;
        for (size_t i = 0; i < nbase; i++) {
                size_t nl = strcspn(base[i], "=") + 1;
                bool overridden = false;
                for (size_t j = 0; j < nextra; j++)
                        overridden |= strncmp(extra[j], base[i], nl) == 0;
                if (!overridden)
                        env[n++] = base[i];
        }
        for (size_t j = 0; j < nextra; j++)
                env[n++] = extra[j];
        return env;
}

void init_cmd_req_begin(struct init_cmd_req *q, const char *base_cwd)
{
        (void)snprintf(q->cwd, sizeof(q->cwd), "%s", base_cwd);
}

int init_cmd_req_field(struct init_cmd_req *q, const bridle__rec *rec, const char *base_cwd)
{
        if (rec->type != BRIDLE__OP_ARG && rec->type != BRIDLE__OP_ENV && rec->type != BRIDLE__OP_CWD)
                return 1;
        bridle__cursor c = { rec->p, rec->len };
        char s[BRIDLE__INIT_MAX_STR];
        if (bridle__rec_str(&c, s, sizeof(s)) < 0)
                return -EBADMSG;
        if (rec->type == BRIDLE__OP_CWD) {
                (void)snprintf(q->cwd, sizeof(q->cwd), "%s%s%s", s[0] == '/' ? "" : base_cwd,
                               s[0] == '/' ? "" : "/", s);
                return 0;
        }
        bool arg = rec->type == BRIDLE__OP_ARG;
        if ((arg && q->argc >= INIT_MAX_ARGS) || (!arg && q->envc >= INIT_MAX_ENV))
                return -E2BIG;
        char *d = strdup(s);
        if (!d)
                return -ENOMEM;
        if (arg)
                q->argv[q->argc++] = d;
        else
                q->env[q->envc++] = d;
        return 0;
}

void init_cmd_req_free(struct init_cmd_req *q)
{
        for (size_t i = 0; i < q->argc; i++)
                free(q->argv[i]);
        for (size_t i = 0; i < q->envc; i++)
                free(q->env[i]);
        q->argc = q->envc = 0;
}
