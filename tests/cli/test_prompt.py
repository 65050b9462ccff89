"""The passphrase prompt on a real (pseudo) terminal: no echo (echo is off
before the prompt shows), asked twice by init, and a terminal left as it was
found even after Ctrl-C; Ctrl-Z turns echo back on until the prompt resumes."""

import os
import pty
import select
import signal
import termios
import time

import pytest

from conftest import clean_env


TIMEOUT = 60  # seconds; generous for a loaded machine and an ASan build


@pytest.fixture
def spawn():
    """Start argv with a new pseudo-terminal as its controlling terminal;
    returns (pid, master fd). Whatever a failed test leaves running is
    killed and reaped, never left blocked at a prompt."""
    children = []

    def start(argv, env):
        pid, fd = pty.fork()
        if pid == 0:  # the child: the pty is its controlling terminal
            try:
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        children.append([pid, fd])
        return pid, fd

    yield start
    for child in children:
        pid, fd = child
        try:
            if os.waitpid(pid, os.WNOHANG) == (0, 0):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        try:
            os.close(fd)
        except OSError:
            pass


def read_until(fd, needle, timeout=TIMEOUT):
    """Read until needle has been printed; no fixed sleeps, only a deadline."""
    out = b""
    deadline = time.monotonic() + timeout
    while needle not in out and time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    assert needle in out, (needle, out)
    return out


def read_rest(fd, timeout=TIMEOUT):
    """Everything until the program closes the terminal (EIO on the master),
    within a deadline: a program still waiting for input is a failure, not
    a hang."""
    out = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, ("still running", out)
        r, _, _ = select.select([fd], [], [], min(left, 0.2))
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return out
        if not chunk:
            return out
        out += chunk


def echo_is_on(fd):
    return bool(termios.tcgetattr(fd)[3] & termios.ECHO)


def answer(fd, prompt, text):
    """Wait for the prompt, then type text as a person would the moment it
    appears. The client turns echo off before it prints the prompt, so echo
    must already be off here: checked, not waited for."""
    seen = read_until(fd, prompt)
    assert not echo_is_on(fd), ("echo on at the prompt", seen)
    os.write(fd, text)
    return seen


def wait_exit(pid, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    raise AssertionError("pid %d did not exit" % pid)


def test_init_prompts_twice_without_echo(cli_path, spawn, tmp_path):
    ident = str(tmp_path / "id")
    pid, fd = spawn([cli_path, "--identity", ident, "init"], clean_env(HOME=str(tmp_path)))
    seen = answer(fd, b"Passphrase: ", b"typed at the terminal\n")
    seen += answer(fd, b"Passphrase again: ", b"typed at the terminal\n")
    seen += read_rest(fd)
    status = wait_exit(pid)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert b"typed at the terminal" not in seen  # never echoed
    assert b"identity written to" in seen
    assert echo_is_on(fd)
    # And the prompt unlocks it.
    pid, fd = spawn([cli_path, "--identity", ident, "export", "-"], clean_env(HOME=str(tmp_path)))
    answer(fd, b"Passphrase: ", b"typed at the terminal\n")
    out = read_rest(fd)
    status = wait_exit(pid)
    assert os.waitstatus_to_exitcode(status) == 0, out
    assert b'"sealdrop_identity"' in out


def test_mismatched_confirmation_is_refused(cli_path, spawn, tmp_path):
    ident = str(tmp_path / "id")
    pid, fd = spawn([cli_path, "--identity", ident, "init"], clean_env(HOME=str(tmp_path)))
    answer(fd, b"Passphrase: ", b"one\n")
    answer(fd, b"Passphrase again: ", b"two\n")
    out = read_rest(fd)
    status = wait_exit(pid)
    assert os.waitstatus_to_exitcode(status) == 64, out
    assert b"differ" in out and not os.path.exists(ident)
    assert echo_is_on(fd)


def test_ctrl_c_at_the_prompt_restores_echo(cli_path, spawn, tmp_path):
    pid, fd = spawn([cli_path, "--identity", str(tmp_path / "id"), "init"],
                    clean_env(HOME=str(tmp_path)))
    answer(fd, b"Passphrase: ", b"\x03")  # Ctrl-C
    out = read_rest(fd)
    status = wait_exit(pid)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT, (status, out)
    assert echo_is_on(fd)


def test_ctrl_z_at_the_prompt_asks_again_without_echo(cli_path, spawn, tmp_path):
    # The child leads its own session, so its process group is orphaned and
    # the kernel does not stop it on Ctrl-Z: the handler puts the echo back,
    # "stops", and on the way back turns echo off and asks again.
    ident = str(tmp_path / "id")
    pid, fd = spawn([cli_path, "--identity", ident, "init"], clean_env(HOME=str(tmp_path)))
    answer(fd, b"Passphrase: ", b"\x1a")  # Ctrl-Z
    seen = answer(fd, b"Passphrase: ", b"typed after ctrl-z\n")
    seen += answer(fd, b"Passphrase again: ", b"typed after ctrl-z\n")
    seen += read_rest(fd)
    status = wait_exit(pid)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert b"typed after ctrl-z" not in seen
    assert echo_is_on(fd)
