"""The README's first command: scripts/run serves, Ctrl-C (SIGINT to the whole
process group, as a terminal sends it) and SIGTERM stop everything with exit
0, and a child that dies on its own stops the rest with exit 1."""

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

import requests

from conftest import ROOT
import stack

RUN = os.path.join(ROOT, "scripts", "run")
REPEAT = int(os.environ.get("SEALDROP_RUN_REPEAT", "15"))
# The binary under test, built already: scripts/run then builds nothing (it
# would reconfigure build/ while scripts/check's -Werror build is in use).
RUN_ENV = dict(os.environ, SEALDROPD=stack.sealdropd_path())


def proc_info(pid):
    """(command name, state, parent pid) of a process, or None once it is
    gone. A zombie counts as gone: its parent may be a container's init
    that never reaps."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    comm = stat[stat.index("(") + 1:stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return comm, fields[0], int(fields[1])


def children_of(pid):
    """{pid: command name} of the live children of pid."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            info = proc_info(int(entry))
            if info and info[2] == pid:
                found[int(entry)] = info[0]
    return found


def port_is_closed(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


class Run:
    """One scripts/run, started in its own session as a terminal starts a
    command; its output is collected by a thread, so that nothing here
    blocks on a pipe a stray child still holds."""

    def __init__(self, state, *args, sigint_ignored=False):
        self.port = stack.free_port()
        self.state = state
        cmd = [RUN, "--port", str(self.port), "--state", str(state)] + list(args)
        if sigint_ignored:
            # As a background job of a non-interactive shell starts: with
            # SIGINT ignored, which a shell cannot trap.
            cmd = ["/bin/sh", "-c", 'trap "" INT; exec "$0" "$@"'] + cmd
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True, text=True,
                                  env=RUN_ENV)
        self.lines = []
        self.running = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.children = {}
        self.pids = {}

    def _read(self):
        for line in self.p.stdout:
            self.lines.append(line)
            if "sealdrop is running at" in line:
                self.running.set()
        self.running.set()  # end of output: wait_running() looks at why

    @property
    def output(self):
        return "".join(self.lines)

    def wait_running(self, timeout=300):
        """Wait for the URL line; then note the PIDs of sealdropd and nginx."""
        assert self.running.wait(timeout), "scripts/run did not start in %ds:\n%s" % (
            timeout, self.output)
        assert "sealdrop is running at http://127.0.0.1:%d/" % self.port in self.output, \
            self.output
        kids = {name: pid for pid, name in children_of(self.p.pid).items()}
        assert "sealdropd" in kids and "nginx" in kids, (kids, self.output)
        self.children = {"sealdropd": kids["sealdropd"], "nginx": kids["nginx"]}
        # Every process that must be gone afterwards: nginx's workers too.
        self.pids = {pid: name for name, pid in self.children.items()}
        self.pids.update(children_of(kids["nginx"]))

    def finish(self, timeout=30):
        """The exit status; raises if scripts/run is still running after timeout."""
        rc = self.p.wait(timeout)
        self.reader.join(10)
        return rc

    def left_running(self):
        """Which of the processes noted by wait_running() are still alive."""
        return {pid: name for pid, name in self.pids.items()
                if (proc_info(pid) or ("",))[0] == name}

    def kill(self):
        """Whatever happened, leave nothing behind."""
        # Ctrl-C first, SIGKILL only after 90s: sealdropd and nginx run in
        # sessions of their own and would outlive a SIGKILL of the group;
        # then whatever STATE/run/pids still lists.
        stack.stop_scripts_run(self.p, self.state)
        for pid in self.left_running():
            os.kill(pid, signal.SIGKILL)
        self.reader.join(10)


def assert_stopped_cleanly(run, rc):
    assert rc == 0, "exit %d:\n%s" % (rc, run.output)
    assert "sealdrop stopped." in run.output, run.output
    assert "exited unexpectedly" not in run.output, run.output
    assert run.left_running() == {}, run.output
    assert port_is_closed(run.port)
    assert not (run.state / "run" / "sealdropd.sock").exists()


def test_scripts_run_serves_and_stops_on_ctrl_c(tmp_path):
    run = Run(tmp_path / "state")
    try:
        run.wait_running()
        url = "http://127.0.0.1:%d" % run.port
        assert requests.get(url + "/health").json()["status"] == "healthy"
        assert requests.get(url + "/").status_code == 200
        # It serves the binary under test ($SEALDROPD), not one it built.
        assert os.readlink("/proc/%d/exe" % run.children["sealdropd"]) == \
            os.path.realpath(stack.sealdropd_path())
        # Its children's PIDs, for whoever has to clean up after a SIGKILL.
        pids_file = run.state / "run" / "pids"
        assert pids_file.read_text().split() == [str(run.children["sealdropd"]),
                                                 str(run.children["nginx"])]
        os.killpg(run.p.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        assert_stopped_cleanly(run, run.finish())
        assert not pids_file.exists()
    finally:
        run.kill()


def test_scripts_run_children_outlive_its_sigkill_and_the_pids_file_finds_them(tmp_path):
    run = Run(tmp_path / "state")
    try:
        run.wait_running()
        os.killpg(run.p.pid, signal.SIGKILL)  # its children are in other sessions
        run.finish()
        assert run.left_running(), "nothing outlived the SIGKILL: the test is moot"
        stack.stop_scripts_run(run.p, run.state)
        stack.wait_until(lambda: not run.left_running(), timeout=10,
                         what="the listed children to be gone")
        assert port_is_closed(run.port)
    finally:
        run.kill()


def test_scripts_run_ctrl_c_is_a_clean_stop_every_time(tmp_path):
    """Ctrl-C reaches the script and, unless the script prevents it, its
    children: nginx and sealdropd stop on SIGINT by themselves, and the
    script must still see a requested stop, not a crash. Every other run
    starts the script with SIGINT ignored, as a background job of a
    non-interactive shell (scripts/check run with '&', some CI runners)
    does: such a shell cannot trap SIGINT at all. The other core spins
    meanwhile and the signal comes at varying moments after start-up."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    rnd = random.Random(10)
    failures = []
    deadline = time.time() + 600
    runs = 0
    try:
        for i in range(REPEAT):
            if time.time() > deadline:
                break
            runs += 1
            run = Run(tmp_path / ("state%d" % i), sigint_ignored=i % 2 == 1)
            try:
                run.wait_running()
                time.sleep(rnd.uniform(0, 0.3))
                os.killpg(run.p.pid, signal.SIGINT)
                try:
                    assert_stopped_cleanly(run, run.finish())
                except (AssertionError, subprocess.TimeoutExpired) as e:
                    failures.append("run %d (SIGINT %s at start): %s" % (
                        i + 1, "ignored" if i % 2 else "default",
                        " | ".join(str(e).strip().splitlines()[:6])))
            finally:
                run.kill()
    finally:
        spinner.kill()
        spinner.wait()
    assert runs >= min(REPEAT, 5), "only %d runs in the time allowed" % runs
    assert not failures, "%d of %d Ctrl-C stops were not clean:\n%s" % (
        len(failures), runs, "\n".join(failures))


def test_scripts_run_stops_on_ctrl_c_even_if_started_with_sigint_ignored(tmp_path):
    run = Run(tmp_path / "state", sigint_ignored=True)
    try:
        run.wait_running()
        os.killpg(run.p.pid, signal.SIGINT)
        assert_stopped_cleanly(run, run.finish())
    finally:
        run.kill()


def test_scripts_run_stops_on_sigterm(tmp_path):
    run = Run(tmp_path / "state")
    try:
        run.wait_running()
        os.kill(run.p.pid, signal.SIGTERM)  # the script alone, as kill(1) or a supervisor
        assert_stopped_cleanly(run, run.finish())
    finally:
        run.kill()


def test_scripts_run_reports_a_child_that_dies(tmp_path):
    """A child that dies on its own is reported, exit 1, and the other one is
    stopped. Killed the moment the URL is printed, bash may already have
    reaped and reported the child before the script reaches its wait (a
    plain "wait -n" then waits for the other child forever): several runs."""
    failures = []
    for i, (victim, delay) in enumerate([("sealdropd", 0)] * 4 + [("sealdropd", 0.5),
                                                                 ("nginx", 0)]):
        run = Run(tmp_path / ("state%d" % i))
        try:
            run.wait_running()
            time.sleep(delay)
            os.kill(run.children[victim], signal.SIGKILL)
            try:
                rc = run.finish(15)
            except subprocess.TimeoutExpired:
                failures.append("run %d (%s killed): still running after 15s:\n%s" % (
                    i + 1, victim, run.output))
                continue
            if rc != 1 or "scripts/run: a process exited unexpectedly" not in run.output \
                    or "sealdrop stopped." not in run.output:
                failures.append("run %d (%s killed): exit %d:\n%s" % (i + 1, victim, rc,
                                                                     run.output))
            elif run.left_running():  # the other child too, by PID
                failures.append("run %d (%s killed): left running %s" % (
                    i + 1, victim, run.left_running()))
            elif not port_is_closed(run.port):
                failures.append("run %d (%s killed): port still open" % (i + 1, victim))
        finally:
            run.kill()
    assert not failures, "\n".join(failures)


def test_scripts_run_refuses_a_taken_port(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = subprocess.run([RUN, "--port", str(port), "--state",
                            str(tmp_path / "state")], capture_output=True, text=True, timeout=60,
                           env=RUN_ENV)
    assert r.returncode == 1
    assert "port %d on 127.0.0.1 is already in use" % port in r.stderr


def test_scripts_run_serves_live_events_and_starts_again_after_nginx_was_killed(tmp_path):
    """Live events work through scripts/run (the README's stack), and a
    SIGKILLed nginx's publisher socket does not keep the next run from
    starting."""
    from sdclient import Recipient
    from sdevents import EventStream

    state = tmp_path / "state"
    run = Run(state)
    try:
        run.wait_running()
        url = "http://127.0.0.1:%d" % run.port
        rcpt = Recipient(url)
        with EventStream(url, rcpt.link, rcpt.token) as es:
            assert es.status == 200
            time.sleep(0.3)
            sent = rcpt.send().json()["id"]
            assert es.next_event(timeout=5)[1] == {"type": "message", "id": sent}
        assert (state / "events.key").stat().st_mode & 0o777 == 0o600
        for pid, name in run.pids.items():  # nginx's master and workers, at once
            if name == "nginx":
                os.kill(pid, signal.SIGKILL)
        assert (state / "run" / "events-publish.sock").exists()
        run.finish()  # it stops, saying nginx exited
    finally:
        run.kill()
    again = Run(state)
    try:
        again.wait_running()
        assert requests.get("http://127.0.0.1:%d/health" % again.port).status_code == 200
        os.killpg(again.p.pid, signal.SIGINT)
        assert_stopped_cleanly(again, again.finish())
    finally:
        again.kill()
