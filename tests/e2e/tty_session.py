#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal and answers its prompts.

usage: tty_session.py TRANSCRIPT PATTERN ANSWER [PATTERN ANSWER]... -- COMMAND [ARG]...

Each PATTERN (a Python regex) must appear in the command's output, in order; the
ANSWER and a newline are then typed. After the last answer the command runs to
the end. Everything the command printed goes to TRANSCRIPT. Exits with the
command's status, or 99 if a prompt did not come within 60 s (the transcript
says what came instead).
"""
import os
import pty
import re
import select
import sys
import time


def main():
    transcript_path = sys.argv[1]
    split = sys.argv.index("--")
    pairs = sys.argv[2:split]
    command = sys.argv[split + 1:]
    script = list(zip(pairs[0::2], pairs[1::2]))
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    seen = b""
    consumed = 0
    with open(transcript_path, "wb") as transcript:
        def read(timeout):
            nonlocal seen
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                return True
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the command closed the terminal
                return False
            if not chunk:
                return False
            transcript.write(chunk)
            transcript.flush()
            seen += chunk
            return True

        for pattern, answer in script:
            deadline = time.time() + 60
            regex = re.compile(pattern.encode())
            while True:
                match = regex.search(seen, consumed)
                if match:
                    consumed = match.end()
                    os.write(fd, answer.encode() + b"\n")
                    break
                if time.time() > deadline or not read(1):
                    transcript.write(f"\n[tty_session] no prompt matching {pattern!r}\n".encode())
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    sys.exit(99)
        # The rest of the output, until the command closes the terminal.
        deadline = time.time() + 300
        while read(1) and time.time() < deadline:
            pass
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
