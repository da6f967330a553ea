"""The clients of bench/load.py: closed-loop HTTP/1.1 clients on keep-alive connections,
slowloris clients, and the measurement of one row (a number of clients for a while).

One asyncio process drives them all, so the load generator takes little of the CPU the
server needs (its share is recorded as "client CPU")."""

import asyncio
import os
import statistics
import time
from dataclasses import dataclass, field

from environment import cpu_times, percentile

HOST = "127.0.0.1"


@dataclass
class Target:
    name: str  # the kind of request, for the per-kind table
    path: str
    headers: dict[str, str]


def request_bytes(target: Target) -> bytes:
    head = [f"GET {target.path} HTTP/1.1", f"Host: {HOST}", "User-Agent: modelgate-load"]
    head += [f"{k}: {v}" for k, v in target.headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode()


async def fetch(reader, writer, request: bytes) -> tuple[int, bool]:
    """Send one request and read its whole answer; (status, connection still usable)."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    if b"content-length" in headers:
        await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding") == b"chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.read()
        return status, False
    return status, headers.get(b"connection") != b"close"


@dataclass
class Sample:
    kind: str
    finished: float
    seconds: float
    status: int | str


async def closed_loop_client(index, port, targets, deadline, samples: list[Sample]):
    connection = None
    requests = [(t.name, request_bytes(t)) for t in targets]
    n = index
    while time.monotonic() < deadline:
        kind, request = requests[n % len(requests)]
        n += 1
        started = time.monotonic()
        try:
            if connection is None:
                connection = await asyncio.open_connection(HOST, port)
            status, reusable = await asyncio.wait_for(fetch(*connection, request), timeout=60)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            status, reusable = type(exc).__name__, False
        finished = time.monotonic()
        samples.append(Sample(kind, finished, finished - started, status))
        if not reusable and connection is not None:
            connection[1].close()
            connection = None
    if connection is not None:
        connection[1].close()


@dataclass
class Step:
    label: str
    clients: int
    seconds: float
    samples: list[Sample]
    cpu_busy: float
    steal: float
    load: float
    client_cpu: float
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> list[float]:
        return [s.seconds for s in self.samples if s.status == 200]

    @property
    def errors(self) -> list[Sample]:
        return [s for s in self.samples if s.status != 200]

    @property
    def throughput(self) -> float:
        return len(self.samples) / self.seconds

    def ms(self, pct: float) -> float:
        if not self.samples:
            return float("nan")
        return 1000 * percentile([s.seconds for s in self.samples], pct)


def _busy_and_steal(before, after) -> tuple[float, float]:
    """Percent of the machine's CPU time busy (any process) and stolen by the host."""
    delta = [b - a for a, b in zip(before, after, strict=True)]
    total = max(1, sum(delta))
    idle = delta[3] + delta[4]
    return 100 * (total - idle - delta[7]) / total, 100 * delta[7] / total


def merge(steps: list[Step]) -> Step:
    """One row from the same client count measured in several rounds."""
    total = sum(s.seconds for s in steps)
    return Step(
        label=steps[0].label,
        clients=steps[0].clients,
        seconds=total,
        samples=[x for s in steps for x in s.samples],
        cpu_busy=sum(s.cpu_busy * s.seconds for s in steps) / total,
        steal=sum(s.steal * s.seconds for s in steps) / total,
        load=max(s.load for s in steps),
        client_cpu=sum(s.client_cpu * s.seconds for s in steps) / total,
        extra=steps[-1].extra,
    )


async def measure(port, targets, clients, warmup, seconds, label=None, background=None):
    """`clients` closed loops for warmup + seconds; the answers completed in the last
    `seconds` count."""
    samples: list[Sample] = []
    start = time.monotonic()
    window_start = start + warmup
    deadline = window_start + seconds
    tasks = [
        asyncio.create_task(closed_loop_client(i, port, targets, deadline, samples))
        for i in range(clients)
    ]
    await asyncio.sleep(warmup)
    before, cpu_before = cpu_times(), time.process_time()
    await asyncio.sleep(seconds)
    after, cpu_after = cpu_times(), time.process_time()
    load = os.getloadavg()[0]
    extra = background() if background else {}
    await asyncio.gather(*tasks)
    # Answers completed in the window, and requests pending at its end that failed later
    # (a client timeout): a server too stuck to answer must not look like an idle one.
    counted = [
        s
        for s in samples
        if window_start <= s.finished <= deadline
        or (s.status != 200 and s.finished > deadline >= s.finished - s.seconds)
    ]
    busy, steal = _busy_and_steal(before, after)
    return Step(
        label=label or str(clients),
        clients=clients,
        seconds=seconds,
        samples=counted,
        cpu_busy=busy,
        steal=steal,
        load=load,
        client_cpu=100 * (cpu_after - cpu_before) / seconds,
        extra=extra,
    )


def _trickle():
    """A request head that never ends: the start of a GET, then header after header."""
    yield from b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\n"
    while True:
        yield from b"X-a: b\r\n"


async def slowloris_client(port, stop: asyncio.Event, interval: float, stats: dict):
    """Send a request head one byte every `interval` seconds, never finishing it; when
    the server answers (408) or drops the connection, connect again."""
    while not stop.is_set():
        writer = None
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
            stats["connections"] += 1
            stats["open"] += 1
            try:
                for byte in _trickle():
                    if stop.is_set():
                        break
                    writer.write(bytes([byte]))
                    await writer.drain()
                    try:
                        await asyncio.wait_for(reader.read(1024), timeout=interval)
                    except TimeoutError:
                        continue
                    stats["dropped"] += 1
                    break
            finally:
                stats["open"] -= 1
        except OSError:
            stats["refused"] += 1
            await asyncio.sleep(interval)
        finally:
            if writer is not None:
                writer.close()


async def slowloris(port, targets, args) -> tuple[Step, Step]:
    """One normal client on an idle server, then the same client beside the attack."""
    normal = list(targets)
    idle = await measure(port, normal, 1, args.warmup, args.duration, label="idle")
    stop = asyncio.Event()
    stats = {"connections": 0, "open": 0, "dropped": 0, "refused": 0}
    attackers = [
        asyncio.create_task(slowloris_client(port, stop, args.trickle, stats))
        for _ in range(args.slow_clients)
    ]
    held = []

    async def sample_open():
        while not stop.is_set():
            held.append(stats["open"])
            await asyncio.sleep(0.5)

    sampler = asyncio.create_task(sample_open())
    await asyncio.sleep(2)  # let every slow client connect and start trickling
    attacked = await measure(
        port,
        normal,
        1,
        args.warmup,
        args.duration,
        label=f"{args.slow_clients} slow clients",
        background=lambda: dict(stats),
    )
    stop.set()
    await asyncio.gather(*attackers, sampler)
    attacked.extra["held"] = statistics.mean(held) if held else 0
    return idle, attacked
