"""The passphrase prompt on a real (pseudo) terminal: no echo, asked twice
by init, and a terminal left as it was found even after Ctrl-C."""

import os
import pty
import select
import signal
import termios
import time

from conftest import clean_env


def spawn(argv, env):
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    return pid, fd


def read_until(fd, needle, timeout=20):
    out = b""
    deadline = time.time() + timeout
    while needle not in out and time.time() < deadline:
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


def read_rest(fd):
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return out
        if not chunk:
            return out
        out += chunk


def test_init_prompts_twice_without_echo(cli_path, tmp_path):
    ident = str(tmp_path / "id")
    pid, fd = spawn([cli_path, "--identity", ident, "init"], clean_env(HOME=str(tmp_path)))
    seen = read_until(fd, b"Passphrase: ")
    os.write(fd, b"typed at the terminal\n")
    seen += read_until(fd, b"Passphrase again: ")
    os.write(fd, b"typed at the terminal\n")
    seen += read_rest(fd)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert b"typed at the terminal" not in seen  # never echoed
    assert b"identity written to" in seen
    # And the prompt unlocks it.
    pid, fd = spawn([cli_path, "--identity", ident, "export", "-"], clean_env(HOME=str(tmp_path)))
    read_until(fd, b"Passphrase: ")
    os.write(fd, b"typed at the terminal\n")
    out = read_rest(fd)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out
    assert b'"sealdrop_identity"' in out


def test_mismatched_confirmation_is_refused(cli_path, tmp_path):
    ident = str(tmp_path / "id")
    pid, fd = spawn([cli_path, "--identity", ident, "init"], clean_env(HOME=str(tmp_path)))
    read_until(fd, b"Passphrase: ")
    os.write(fd, b"one\n")
    read_until(fd, b"Passphrase again: ")
    os.write(fd, b"two\n")
    out = read_rest(fd)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 64
    assert b"differ" in out and not os.path.exists(ident)


def test_ctrl_c_at_the_prompt_restores_echo(cli_path, tmp_path):
    pid, fd = spawn([cli_path, "--identity", str(tmp_path / "id"), "init"],
                    clean_env(HOME=str(tmp_path)))
    read_until(fd, b"Passphrase: ")
    assert not termios.tcgetattr(fd)[3] & termios.ECHO  # echo off while asking
    os.write(fd, b"\x03")  # Ctrl-C
    read_rest(fd)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT
    assert termios.tcgetattr(fd)[3] & termios.ECHO
    os.close(fd)
