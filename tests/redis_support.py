"""A real redis-server for the tests (Debian's, which make test installs): started on a free loopback port with
the memory bound and eviction policy deploy/redis.conf gives, stopped and started again by tests of a Redis
outage. Nothing is mocked: the app talks to it through Django's RedisCache and the redis client, as in a fleet.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
from django.core.cache import caches

from advisor.settings import redis_caches

REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")
MAXMEMORY = "64mb"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = tempfile.mkdtemp(prefix="test-redis-")
        self.process = None

    def start(self):
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.directory]
        command += ["--save", "", "--appendonly", "no", "--maxmemory", MAXMEMORY]
        command += ["--maxmemory-policy", "allkeys-lru"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def client(self):
        import redis

        return redis.Redis.from_url(self.url)

    def close(self):
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server():
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.fail(f"redis-server is not at {REDIS_SERVER}: make test installs it (apt-get install redis-server)")
    server = RedisServer()
    server.start()
    yield server
    server.close()


@pytest.fixture
def redis_cache(settings, redis_server):
    """The app on a shared Redis, as REDIS_URL gives it; the server is emptied before and running after."""
    if redis_server.process is None:
        redis_server.start()
    redis_server.client().flushall()
    settings.REDIS_URL = redis_server.url
    settings.CACHES = redis_caches(redis_server.url)
    yield redis_server
    for alias in ("default", "pages"):
        caches[alias].close()
    if redis_server.process is None:
        redis_server.start()
