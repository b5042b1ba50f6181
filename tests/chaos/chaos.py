#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Chaos tests of durable runs (docs/durability.md, issue 6).

    chaos.py CASE     CASE: harness | init | both | faults | server

The run (agent.yaml, script.json): 20 steps each append a unique line to
log.txt in the sandbox's workspace (exec_command), and after every fourth a step
only reads it (read_file or `cat`). Per seed, the run is started and killed at
random instants, then resumed and killed again, ... until a resume completes:

  harness  SIGKILL of `bridle run`/`bridle resume`;
  init     SIGKILL of the sandbox's init while the harness runs (when the
           harness then exits non-zero, resume);
  both     the two together, at the same instant;
  faults   the run talks to tests/server/fake-openai.mjs (--by-outputs
           --random-faults SEED:30) over loopback, and the harness is killed
           too; some seeds use openai-chat;
  server   fake-openai's --by-outputs and --random-faults themselves (quick).

After every kill: `PRAGMA integrity_check` of the journal is ok. At the end of
each seed: the run completed with the scripted answer; each call has one
tool.finished; every read saw exactly the lines written before it, each once and
in order; the final log.txt (the last read, and the kept sandbox's file) is
line-01..line-20. At least CHAOS_MIN_KILLS (100) kills per case.

Environment: BRIDLE, BRIDLE_SRCDIR (set by meson); CHAOS_SEED=N replays one
seed (its kill delays; the instants still depend on the machine's speed);
CHAOS_BASE=N the first seed (default: random, printed); CHAOS_MIN_KILLS,
CHAOS_MAX_SEEDS, CHAOS_BUDGET (seconds, default 420); CHAOS_KEEP_GOING=1 goes
on after a failed seed (and fails at the end); CHAOS_KEEP=1 keeps the temporary
folder; CHAOS_THAW=1 (diagnosis only) thaws a sandbox left frozen by a harness
killed mid-snapshot before each resume. Exit 0 pass, 1 fail, 77 skip.
"""

import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("BRIDLE_SRCDIR") or os.path.dirname(os.path.dirname(HERE))
BRIDLE = os.environ.get("BRIDLE")
SERVER = os.path.join(SRC, "tests", "server", "fake-openai.mjs")
SCRIPT = os.path.join(HERE, "script.json")
AGENT = os.path.join(HERE, "agent.yaml")
AGENT_HTTP = os.path.join(HERE, "agent-http.yaml")
TASK = "Append the twenty lines to log.txt"
FINAL = "chaos: twenty lines written"
LINES = ["line-%02d" % i for i in range(1, 21)]

MIN_KILLS = int(os.environ.get("CHAOS_MIN_KILLS", "100"))
MAX_SEEDS = int(os.environ.get("CHAOS_MAX_SEEDS", "150"))
BUDGET = float(os.environ.get("CHAOS_BUDGET", "420"))
MAX_ATTEMPTS = 40  # processes (run + resumes) per seed
KILLS_PER_SEED = 12  # then the last resume runs unkilled
PROC_TIMEOUT = 30.0  # seconds one run/resume may take
KEEP_GOING = os.environ.get("CHAOS_KEEP_GOING") == "1"
THAW = os.environ.get("CHAOS_THAW") == "1"  # diagnosis only: thaw frozen sandboxes before a resume


def say(*a):
    print(*a, flush=True)


class Fail(Exception):
    pass


def skip(why):
    say("SKIP: " + why)
    sys.exit(77)


# ---- processes ------------------------------------------------------------------


def start_time(pid):
    """The process's start time (clock ticks since boot), or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    return int(s[s.rindex(")") + 2:].split()[19])


def kill_pid(pid, start=None):
    """SIGKILL pid (only if it is still the process that started at `start`)."""
    if start is not None and start_time(pid) != start:
        return False
    try:
        os.kill(pid, signal.SIGKILL)
        return True
    except ProcessLookupError:
        return False


class Ctx:
    def __init__(self, case):
        self.case = case
        self.t = tempfile.mkdtemp(prefix="bridle-chaos-%s." % case)
        os.chmod(self.t, 0o755)
        self.home = os.path.join(self.t, "home")
        os.makedirs(self.home)
        self.journal = os.path.join(self.t, "journal.db")
        self.env = dict(os.environ)
        self.env["BRIDLE_HOME"] = self.home
        self.env["BRIDLE_MODEL_BACKOFF_MS"] = "1"
        self.env.pop("OPENAI_API_KEY", None)
        self.procs = []  # Popen objects to reap at the end
        self.server = None
        self.kills = 0
        self.known_runs = set()

    def bridle(self, *args, timeout=60):
        return subprocess.run([BRIDLE, *args], env=self.env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)

    def sandboxes(self):
        d = os.path.join(self.home, "sandboxes")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def init_pids(self):
        """(pid, start) of the init of each sandbox of this BRIDLE_HOME."""
        out = []
        for sb in self.sandboxes():
            try:
                with open(os.path.join(self.home, "sandboxes", sb, "state")) as f:
                    kv = dict(l.split("=", 1) for l in f.read().splitlines() if "=" in l)
                out.append((int(kv["pid"]), int(kv["start"])))
            except (OSError, KeyError, ValueError):
                pass
        return out

    def kill_inits(self):
        n = 0
        for pid, start in self.init_pids():
            if kill_pid(pid, start):
                n += 1
        return n

    def freezer(self, sb):
        """(path of the sandbox's freezer.state, its state), or (None, None)."""
        try:
            with open(os.path.join(self.home, "sandboxes", sb, "state")) as f:
                kv = dict(l.split("=", 1) for l in f.read().splitlines() if "=" in l)
            p = os.path.join(kv["cg_freezer"], "freezer.state")
            with open(p) as f:
                return p, f.read().strip()
        except (OSError, KeyError):
            return None, None

    def destroy_sandboxes(self):
        for sb in self.sandboxes():
            # a harness killed while it took a snapshot can leave the sandbox
            # frozen (a bug the run reports); thaw it so it can be destroyed
            p, st = self.freezer(sb)
            if st == "FROZEN":
                with open(p, "w") as f:
                    f.write("THAWED")
            self.bridle("sandbox", "destroy", sb)

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.stop_server()
        self.destroy_sandboxes()
        if os.environ.get("CHAOS_KEEP"):
            say("kept " + self.t)
        else:
            shutil.rmtree(self.t, ignore_errors=True)

    # ---- the fake server ----
    def start_server(self, seed, percent, extra=()):
        self.stop_server()
        self.server_log = os.path.join(self.t, "server-%d.log" % seed)
        port_file = os.path.join(self.t, "server.port")
        self.server_err = os.path.join(self.t, "server-%d.err" % seed)
        args = ["node", SERVER, "--script", SCRIPT, "--port", "0", "--log", self.server_log, "--by-outputs"]
        if percent:
            args += ["--random-faults", "%d:%d" % (seed, percent)]
        args += list(extra)
        with open(port_file, "w") as out, open(self.server_err, "w") as err:
            self.server = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        for _ in range(150):
            with open(port_file) as f:
                m = re.search(r"^listening (\d+)$", f.read(), re.M)
            if m:
                self.url = "http://127.0.0.1:%s/v1" % m.group(1)
                return
            if self.server.poll() is not None:
                break
            time.sleep(0.1)
        raise Fail("fake-openai did not start: " + open(self.server_err).read()[:2000])

    def stop_server(self):
        if self.server and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        self.server = None

    # ---- the journal ----
    def integrity(self, where):
        if not os.path.exists(self.journal):
            return
        db = sqlite3.connect(self.journal, timeout=30)
        try:
            r = db.execute("PRAGMA integrity_check").fetchall()
        finally:
            db.close()
        if r != [("ok",)]:
            raise Fail("%s: PRAGMA integrity_check of the journal: %r" % (where, r))

    def runs(self):
        r = self.bridle("runs", "--json", "--journal", self.journal)
        if r.returncode != 0:
            if not os.path.exists(self.journal):
                return []
            raise Fail("bridle runs --json: exit %d: %s" % (r.returncode, r.stderr[:2000]))
        return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]

    def events(self, run):
        r = self.bridle("runs", "show", run, "--json", "--journal", self.journal)
        if r.returncode != 0:
            raise Fail("bridle runs show %s --json: exit %d: %s" % (run, r.returncode, r.stderr[:2000]))
        return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


# ---- one seed ---------------------------------------------------------------------


def run_args(ctx, chat):
    if ctx.case == "faults":
        a = ["run", "--agent", AGENT_HTTP, "--base-url", ctx.url]
        if chat:
            a += ["--provider", "openai-chat"]
    else:
        a = ["run", "--agent", AGENT]
    return a + ["--keep-sandbox", "--journal", ctx.journal, TASK]


def excerpt(evs, n=25):
    """The last n events, and those around each resume and sandbox change."""
    keep = set(range(max(0, len(evs) - n), len(evs)))
    for i, e in enumerate(evs):
        if e.get("type") in ("run.resumed", "sandbox.created", "tool.in_doubt", "run.status", "model.error"):
            keep.update(range(max(0, i - 3), min(len(evs), i + 4)))
    lines = []
    prev = -1
    for i in sorted(keep):
        if i != prev + 1:
            lines.append("    ...")
        prev = i
        e = evs[i]
        d = json.dumps(e.get("data"), sort_keys=True)
        lines.append("    %4s %-18s %s" % (e.get("seq"), e.get("type"), d[:240]))
    return "\n".join(lines)


def one_seed(ctx, seed, period, kills_wanted=True):
    """Run one seed: start, kill, resume, ... until completed. Returns the run id.
    The baseline (kills_wanted false) has no random faults either."""
    rng = random.Random(seed)
    chat = ctx.case == "faults" and seed % 4 == 3
    if ctx.case == "faults":
        ctx.start_server(seed, 30 if kills_wanted else 0)
    run = None
    log = []
    kills_here = 0
    done = False
    durable = False
    dead_after_end = False
    turns = 0
    for attempt in range(MAX_ATTEMPTS):
        args = run_args(ctx, chat) if run is None else ["resume", run, "--journal", ctx.journal]
        if THAW and attempt:
            for sb in ctx.sandboxes():
                fp, st = ctx.freezer(sb)
                if st == "FROZEN":
                    with open(fp, "w") as f:
                        f.write("THAWED")
                    log.append("(thawed %s)" % sb)
        out = os.path.join(ctx.t, "out")
        err = os.path.join(ctx.t, "err")
        kill = kills_wanted and kills_here < KILLS_PER_SEED
        # over what is left of the run (its turns so far of 26), so that most
        # processes are killed; init: up to 4 kills a process, over its first half
        left = period * max(0.15, 1.0 - turns / 26.0)
        delays = [rng.uniform(0, left / 2 if ctx.case == "init" else left) for _ in range(4)]
        with open(out, "w") as fo, open(err, "w") as fe:
            p = subprocess.Popen([BRIDLE, *args], env=ctx.env, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe)
        ctx.procs.append(p)
        t0 = time.monotonic()
        what = []
        if kill and ctx.case in ("harness", "faults", "both"):
            try:
                p.wait(delays[0])
            except subprocess.TimeoutExpired:
                # both: in either order (the harness may see its sandbox die)
                init_first = ctx.case == "both" and rng.random() < 0.5
                if init_first:
                    n = ctx.kill_inits()
                    what.append("init%s" % ("" if n else "(none)"))
                p.kill()
                what.append("harness")
                if ctx.case == "both" and not init_first and p.wait() == -signal.SIGKILL:
                    n = ctx.kill_inits()
                    what.append("init%s" % ("" if n else "(none)"))
                if init_first and p.wait() == 0:
                    # it had finished: the sandbox was killed after the run's end
                    dead_after_end = True
            ms = delays[0] * 1000
            what = ["%s@%.0fms" % ("+".join(what), ms)] if what else []
        elif kill and ctx.case == "init":
            # up to 4 kills of the sandbox's init while the harness lives
            at = 0.0
            for d in delays:
                at += d
                try:
                    p.wait(max(0.0, t0 + at - time.monotonic()))
                    break
                except subprocess.TimeoutExpired:
                    n = ctx.kill_inits()
                    what.append("init@%.0fms%s" % (at * 1000, "" if n else "(none)"))
                    if n:
                        ctx.kills += 1
                        kills_here += 1
        try:
            rc = p.wait(PROC_TIMEOUT)
        except subprocess.TimeoutExpired:
            wchan = ""
            try:
                wchan = open("/proc/%d/wchan" % p.pid).read()
                wchan += " " + open("/proc/%d/stack" % p.pid).read().replace("\n", " | ")[:600]
            except OSError:
                pass
            p.kill()
            p.wait()
            evs = ctx.events(run) if run else []
            frozen = ["%s %s" % (sb, ctx.freezer(sb)[1]) for sb in ctx.sandboxes()]
            raise Fail("seed %d: bridle %s did not end within %.0f s (%s; blocked in %s; sandboxes' freezer: %s)\n"
                       "  stderr: %s\n  last events:\n%s" %
                       (seed, args[0], PROC_TIMEOUT, " ".join(log), wchan, ", ".join(frozen),
                        open(err, errors="replace").read()[-1500:], excerpt(evs, 8)))
        ctx.last_proc_s = time.monotonic() - t0
        if rc == -signal.SIGKILL and ctx.case != "init":
            ctx.kills += 1
            kills_here += 1
        stderr = open(err, errors="replace").read()
        stdout = open(out, errors="replace").read()
        if run is None:
            m = re.search(r"^run ([0-9a-f]{32})$", stderr, re.M)
            if m:
                run = m.group(1)
            else:
                # killed before it printed the id: the run may exist all the same
                new = [r["id"] for r in ctx.runs() if r["id"] not in ctx.known_runs]
                if len(new) > 1:
                    raise Fail("seed %d: more than one new run in the journal: %s" % (seed, new))
                run = new[0] if new else None
            if run:
                ctx.known_runs.add(run)
        if rc == -signal.SIGKILL:
            ctx.integrity("seed %d attempt %d" % (seed, attempt))
        if run and rc != 0:
            # run.started becomes durable with the run's first sync point (the
            # sandbox, a writing call): a run killed before it is not in the
            # journal (docs/durability.md); start again. Once there, it stays.
            mine = [r for r in ctx.runs() if r["id"] == run]
            if mine:
                durable = True
                turns = mine[0].get("turns") or 0
            elif durable:
                raise Fail("seed %d: run %s was in the journal and is gone" % (seed, run))
            else:
                what.append("not-journaled")
                run = None
        log.append("%s%s=%s" % (args[0], "[" + ",".join(what) + "]" if what else "", rc))
        if rc == 0:
            if stdout.strip() != FINAL:
                raise Fail("seed %d: exit 0 but stdout is %r, wanted %r" % (seed, stdout[:500], FINAL))
            done = True
            break
        if rc == 2 and run and "has completed: there is nothing to resume" in stderr:
            # the process killed last had written the run's end, not yet exited
            done = True
            break
        if rc in (-signal.SIGKILL, 3, 130):
            continue  # killed, stopped or interrupted: resumable
        # Failed (1) or anything else: the durable run must not end so.
        evs = ctx.events(run) if run else []
        raise Fail("seed %d: bridle %s exited %d (%s)\n  stderr: %s\n  last events:\n%s" %
                   (seed, args[0], rc, " ".join(log), stderr.strip()[-1500:], excerpt(evs)))
    if not done:
        raise Fail("seed %d: not completed after %d processes: %s" % (seed, MAX_ATTEMPTS, " ".join(log)))
    say("seed %d%s: %d kills: %s" % (seed, " (chat)" if chat else "", kills_here, " ".join(log)))
    check_run(ctx, seed, run, sandbox_alive=not dead_after_end)
    if ctx.case == "faults":
        check_server(ctx, seed)
        ctx.stop_server()
    ctx.destroy_sandboxes()
    return run


# ---- the checks -------------------------------------------------------------------


def tool_text(item):
    """The text a read call returned: read_file's output, or cat's after 'Output:'."""
    out = item.get("output", "")
    if isinstance(out, list):  # not expected for function calls
        out = json.dumps(out)
    if out.startswith("Wall time:"):
        i = out.find("\nOutput:\n")
        return out[i + len("\nOutput:\n"):] if i >= 0 else None
    return out


def check_run(ctx, seed, run, sandbox_alive=True):
    evs = ctx.events(run)
    why = []
    st = [e["data"] for e in evs if e["type"] == "run.status"]
    if not st or st[-1].get("status") != "completed" or st[-1].get("final_output") != FINAL:
        why.append("the last run.status is %r, wanted completed with %r" % (st[-1] if st else None, FINAL))
    started = {}
    finished = {}
    dups = []
    for e in evs:
        d = e["data"]
        if e["type"] == "tool.started":
            started.setdefault(d["call_id"], d)
        elif e["type"] == "tool.finished":
            if d["call_id"] in finished:
                dups.append(d["call_id"])
            finished[d["call_id"]] = d
    if dups:
        why.append("calls with more than one tool.finished: %s" % dups)
    fins = [e["data"] for e in evs if e["type"] == "tool.finished"]
    if len(finished) != 25:
        why.append("%d calls finished, wanted 25 (20 writes, 5 reads)" % len(finished))
    # every read saw the lines written before it, each once, in order
    written = 0
    reads = 0
    last = None
    seen_calls = set()
    for d in fins:
        if d["call_id"] in seen_calls:
            continue
        seen_calls.add(d["call_id"])
        if not d.get("ok"):
            why.append("call %s (%s) not ok: %r" % (d["call_id"], d.get("name"), d.get("output_item")))
        args = started.get(d["call_id"], {}).get("arguments", "{}")
        a = json.loads(args) if isinstance(args, str) else args
        cmd = a.get("cmd", "")
        if d.get("name") == "exec_command" and cmd.startswith("printf"):
            written += 1
            want = "printf 'line-%02d\\n' >> log.txt" % written
            if cmd != want:
                why.append("write %d is %r, wanted %r" % (written, cmd, want))
            continue
        reads += 1
        text = tool_text(d.get("output_item") or {})
        got = text.splitlines() if text is not None else None
        if got != LINES[:written]:
            why.append("read %d (%s, after %d writes) saw %r, wanted %r" %
                       (reads, d.get("name"), written, got, LINES[:written]))
        last = got
    if written != 20 or reads != 5:
        why.append("%d writes and %d reads finished, wanted 20 and 5" % (written, reads))
    if last != LINES:
        why.append("the last read of log.txt: %r" % (last,))
    # the file itself, in the run's last sandbox (--keep-sandbox), if it is kept
    sbs = [e["data"]["sandbox_id"] for e in evs if e["type"] == "sandbox.created"]
    if sandbox_alive and sbs and sbs[-1] in ctx.sandboxes():
        r = ctx.bridle("sandbox", "read", sbs[-1], "log.txt")
        if r.returncode != 0 and ctx.case in ("init", "both") and "is dead" in r.stderr:
            # its init was killed after the run's last use of it (the run checks
            # its sandbox when it ends; a kill after that is not the run's to see):
            # the run's last read above has shown the file
            pass
        elif r.returncode != 0:
            why.append("bridle sandbox read %s log.txt: exit %d: %s" % (sbs[-1], r.returncode, r.stderr[:500]))
        elif r.stdout.splitlines() != LINES:
            why.append("log.txt in the sandbox %s: %r" % (sbs[-1], r.stdout.splitlines()))
    if why:
        raise Fail("seed %d run %s:\n  %s\n  events (around each resume, and the last):\n%s" %
                   (seed, run, "\n  ".join(why), excerpt(evs, 8)))
    ctx.checks += 1


def check_server(ctx, seed):
    """The faults case: the server's log says which faults it injected."""
    reqs = [json.loads(l) for l in open(ctx.server_log) if l.strip()]
    faults = [r.get("fault") for r in reqs if r.get("fault")]
    entries = [r.get("entry") for r in reqs]
    ctx.faults_seen += len(faults)
    if any(e is None or e > 25 for e in entries):
        raise Fail("seed %d: the server was asked past the script: entries %s" % (seed, entries))
    say("  server: %d requests, %d faults (%s)" % (len(reqs), len(faults), ",".join(faults)))


# ---- the cases ----------------------------------------------------------------------


def preflight(case):
    if not BRIDLE or not os.access(BRIDLE, os.X_OK):
        raise Fail("BRIDLE is not set to the bridle binary (run through meson test)")
    r = subprocess.run([BRIDLE, "sandbox", "run", "--", "true"], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=60,
                       env=dict(os.environ, BRIDLE_HOME=tempfile.gettempdir()))
    if r.returncode != 0:
        skip("no sandbox here (user namespaces?): bridle sandbox run -- true exited %d: %s" %
             (r.returncode, r.stderr[:300]))
    if case in ("faults", "server"):
        if not shutil.which("node"):
            skip("node is not installed (scripts/install-deps installs it)")


def case_server(ctx):
    """--by-outputs answers by the conversation; --random-faults is seeded and logged."""
    import http.client
    import urllib.request
    import urllib.error

    def post(path, body):
        req = urllib.request.Request(ctx.url + path, data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                raw = r.read()
                try:
                    return r.status, json.loads(raw)
                except ValueError:
                    return "truncate", None  # a clean end inside the JSON
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())
        except (http.client.IncompleteRead, ConnectionError):
            return "reset", None  # the body cut by the server

    out = lambda n: [{"type": "function_call_output", "call_id": "c%d" % i, "output": "x"} for i in range(n)]
    ctx.start_server(1, 0)
    a = post("/responses", {"model": "m", "input": out(3)})
    b = post("/responses", {"model": "m", "input": out(0)})
    c = post("/responses", {"model": "m", "input": out(3)})
    script = json.load(open(SCRIPT))
    want = json.loads(json.dumps(script[3][0]["arguments"]))
    if a[0] != 200 or c[0] != 200 or a[1]["output"] != c[1]["output"]:
        raise Fail("--by-outputs: the same state got different answers: %r / %r" % (a, c))
    if json.loads(a[1]["output"][0]["arguments"]) != want:
        raise Fail("--by-outputs: 3 outputs did not get entry 3: %r" % (a[1]["output"],))
    if b[1]["output"][0]["call_id"] == a[1]["output"][0]["call_id"]:
        raise Fail("--by-outputs: entries 0 and 3 have the same call id")
    ch = post("/chat/completions", {"model": "m", "messages": [{"role": "user", "content": "x"}] +
                                    [{"role": "tool", "tool_call_id": "c", "content": "x"}] * 3})
    if ch[0] != 200 or ch[1]["choices"][0]["message"]["tool_calls"][0]["id"] != a[1]["output"][0]["call_id"]:
        raise Fail("--by-outputs (chat): 3 tool messages did not get entry 3 with the same call id: %r" % (ch,))
    past = post("/responses", {"model": "m", "input": out(26)})
    if past[0] != 400 or past[1]["error"]["code"] != "fake_script_exhausted":
        raise Fail("--by-outputs: 26 outputs are past the script, got %r" % (past,))
    say("ok - --by-outputs: answers by the number of tool results (Responses and Chat), stable ids")
    # random faults: the same seed, the same sequence; logged
    seqs = []
    for _ in range(2):
        ctx.start_server(42, 50)
        seqs.append([post("/responses", {"model": "m", "input": out(i % 5)})[0] for i in range(40)])
        ctx.stop_server()
        logged = [json.loads(l).get("fault") for l in open(ctx.server_log)]
        ctx.server_log_text = open(ctx.server_log).read()
        os.unlink(ctx.server_log)
    if seqs[0] != seqs[1]:
        raise Fail("--random-faults 42:50: two servers gave different sequences: %s / %s" % seqs)
    nf = sum(1 for f in logged if f)
    if not 5 <= nf <= 35 or not set(seqs[0]) - {200}:
        raise Fail("--random-faults 42:50: %d faults of 40 (statuses %s)" % (nf, seqs[0]))
    seen = [None if s == 200 else str(s) for s in seqs[0]]
    if seen != logged:
        raise Fail("--random-faults: the log's faults %s are not what the client saw: %s" % (logged, seen))
    if not {"429", "500", "reset", "truncate"} <= set(logged):
        raise Fail("--random-faults 42:50: not every default type was drawn: %s" % logged)
    errs = open(ctx.server_err).read()
    if errs.count("random fault") != nf:
        raise Fail("--random-faults: stderr names %d faults, the log %d" % (errs.count("random fault"), nf))
    say("ok - --random-faults 42:50: %d of 40 requests faulted, the same with the same seed, logged" % nf)
    ctx.checks += 3


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("harness", "init", "both", "faults", "server"):
        say("usage: chaos.py harness|init|both|faults|server")
        return 2
    case = sys.argv[1]
    try:
        preflight(case)
    except Fail as e:
        say("FAIL: %s" % e)
        return 1
    ctx = Ctx(case)
    ctx.checks = 0
    ctx.faults_seen = 0
    t_start = time.monotonic()
    try:
        if case == "server":
            case_server(ctx)
            return 0
        # the baseline: the same run, not killed (checks the fixtures; gives the
        # run's length, which bounds the kill delays)
        times = []
        for b in (0, 1):
            one_seed(ctx, b, 1.0, kills_wanted=False)
            times.append(ctx.last_proc_s)
        period = min(times)
        say("baseline runs: %s ms, checks pass; kills at 0..%.0f ms" %
            ("/".join("%.0f" % (t * 1000) for t in times), period * 1000))
        replay = os.environ.get("CHAOS_SEED")
        if replay:
            seeds = [int(replay)]
            say("replaying seed %s" % replay)
        else:
            first = int(os.environ.get("CHAOS_BASE") or random.SystemRandom().randrange(1, 1 << 30))
            say("seeds from %d (replay one: CHAOS_SEED=N; this sequence: CHAOS_BASE=%d)" % (first, first))
            seeds = range(first, first + MAX_SEEDS)
        n = 0
        failed = []
        for seed in seeds:
            if not replay and ctx.kills >= MIN_KILLS:
                break
            if time.monotonic() - t_start > BUDGET:
                raise Fail("the time budget (%.0f s) ran out after %d seeds and %d kills, before %d kills" %
                           (BUDGET, n, ctx.kills, MIN_KILLS))
            n += 1
            try:
                one_seed(ctx, seed, period)
            except Fail as e:
                say("FAIL: %s" % e)
                failed.append(seed)
                if not KEEP_GOING:
                    raise Fail("seed %d failed (CHAOS_KEEP_GOING=1 goes on with the next seeds)" % seed)
                ctx.stop_server()
                ctx.destroy_sandboxes()
        if failed:
            raise Fail("%d of %d seeds failed: %s (%d kills)" % (len(failed), n, failed, ctx.kills))
        if not replay and ctx.kills < MIN_KILLS:
            raise Fail("only %d kills in %d seeds, wanted %d" % (ctx.kills, n, MIN_KILLS))
        extra = ", %d injected faults" % ctx.faults_seen if case == "faults" else ""
        say("ok - %s: %d seeds, %d kills%s, every run completed with each line once and in order (%.0f s)" %
            (case, n, ctx.kills, extra, time.monotonic() - t_start))
        return 0
    except Fail as e:
        say("FAIL: %s" % e)
        return 1
    finally:
        ctx.cleanup()


if __name__ == "__main__":
    sys.exit(main())
