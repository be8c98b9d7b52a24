"""Real `yinling serve` and `yinling worker` processes, private Redis and PostgreSQL servers
that can be stopped and started, and signed WeChat pushes: for the fault tests and
benchmarks/sos_faults.py, which kill, stop and restart them as an operator (or a crash)
would."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = [
    "WECHAT_TOKEN",
    "PrivatePostgres",
    "PrivateRedis",
    "YinlingProcess",
    "bad_padding",
    "free_port",
    "wechat_text",
]

REPO = Path(__file__).resolve().parent.parent
WECHAT_TOKEN = "yinling-fault-token"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.02)


def wechat_text(text: str, openid: str, msg_id: str) -> tuple[dict[str, str], bytes]:
    """A plain-mode WeChat text push as WeChat signs it: (query, body)."""
    # WeChat's nonce is random per push; here one per message (its retries share it), so
    # that two messages sent in the same second are not taken for a replayed signature.
    digest = hashlib.sha1(f"{openid}:{msg_id}".encode()).hexdigest()  # noqa: S324
    timestamp, nonce = str(int(time.time())), str(int(digest, 16))[-9:]
    signature = hashlib.sha1(  # noqa: S324 - WeChat's scheme
        "".join(sorted([WECHAT_TOKEN, timestamp, nonce])).encode()
    ).hexdigest()
    body = (
        f"<xml><ToUserName><![CDATA[gh_yinling]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}, body.encode()


@dataclass
class PrivateRedis:
    """A redis-server of our own, without persistence, that can be stopped and started."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise RuntimeError("redis-server is needed")
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command
            [server, "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--bind", "127.0.0.1"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        _listening(self.port, 10, "redis-server")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of our own in a temporary folder (run as the postgres user when
    we are root, as PostgreSQL insists), that can be restarted."""

    port: int = field(default_factory=free_port)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="yinling-pg-")))

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _bin(self, name: str) -> str:
        found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
        if found:
            return str(found[-1])
        path = shutil.which(name)
        if path is None:
            raise RuntimeError(f"{name} (PostgreSQL) is needed")
        return path

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True)  # noqa: S603

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(self._bin("initdb"), "-D", str(self.folder / "data"), "-U", "postgres",
                  "--auth=trust", "--no-sync")  # fmt: skip
        self.start()

    def _ctl(self, action: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(self._bin("pg_ctl"), "-D", str(self.folder / "data"), "-o", options,
                  "-l", str(self.folder / "log"), "-w", "-m", "fast", action)  # fmt: skip

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("stop")

    def restart(self) -> None:
        self._ctl("restart")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class YinlingProcess:
    """``yinling serve`` (on a port of its own) or ``yinling worker``, as a real process."""

    env: dict[str, str]
    command: str = "serve"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> None:
        args = [sys.executable, "-m", "bot.cli", self.command]
        if self.command == "serve":
            args += ["--host", "127.0.0.1", "--port", str(self.port)]
        out = self.log.open("ab") if self.log is not None else subprocess.DEVNULL
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            args, cwd=REPO, env={**os.environ, **self.env}, stdout=out, stderr=out
        )
        if self.log is not None:
            out.close()  # the process has its own copy
        if wait and self.command == "serve":
            self.wait_ready()

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"yinling {self.command} exited ({self.process.returncode})")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code in {200, 503}:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError("yinling serve did not start")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind, as an OOM or a pulled plug."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def terminate(self, seconds: float = 30) -> None:
        """SIGTERM, as a deploy: a graceful stop, then SIGKILL if it hangs."""
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


def bad_padding(aes_key: str) -> str:
    """An Encrypt value that decrypts (with the EncodingAESKey ``aes_key``) to 48 bytes
    whose PKCS#7 pad claims 40 of them: what is left is too short to hold the message's
    length (struct.error inside WeChat's and WeCom's decryption)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = base64.b64decode(aes_key + "=")
    plain = os.urandom(47) + bytes([40])
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
