"""A fault-injecting HTTP proxy for orgctl's integration tests.

It sits between the AWS SDK (inside the orgctl binary) and moto's server mode, forwards every
request, and on a fraction of them (``--rate``) misbehaves the way AWS and networks do, so that the
tests can check orgctl's retries, and what it tells people when retries are not enough:

``throttle``
    Answers 400 ``TooManyRequestsException`` without forwarding: Organizations' rate limit, which
    the SDK retries as a throttling error (and adaptive retry slows down for).
``error``
    Answers 500 ``ServiceException`` without forwarding: a transient server fault; nothing happened.
``error_after``
    Forwards, then answers 500 ``ServiceException`` instead of the real response: the change was
    made but the caller cannot know. The dangerous case for calls that are not idempotent
    (CreateAccount, CreatePolicy): a retry makes the change twice or fails as a duplicate.
``slow``
    Sleeps 0.2 to 0.8 s, then forwards: latency, which reorders concurrent requests.
``drop``
    Closes the connection without answering or forwarding: a broken connection.
``drop_after``
    Forwards, then closes the connection without answering: like ``error_after``, at the socket.

Besides random faults, two settings apply to every request they name:

``delays``
    ``{"CreatePolicy": [0.1, 0.4], ...}``: requests for these operations (the last part of the
    ``X-Amz-Target`` header, such as ``AWSOrganizationsV20161128.CreatePolicy``) wait a time drawn
    uniformly from the range, in seconds, before they are forwarded: writes that land late, and
    in an order of the draw's making. ``[s, s]`` is a fixed delay.
``only``
    ``["CreateLoginProfile", ...]``: faults hit these operations alone (named as for ``delays``,
    or by the ``Action`` of a query-protocol body, as IAM and STS send them); empty: every one.
``headers``
    ``{"x-moto-account-id": "123456789012"}``: headers added to every forwarded request, such as
    the one that makes moto act in another account, so that several organizations live in one
    server, each behind its own proxy.
``deny_roles``
    ``["arn:aws:iam::111111111111:role/orgctl", ...]``: STS ``AssumeRole`` of these roles is
    answered 403 ``AccessDenied`` without forwarding (moto lets every role be assumed): a role
    whose trust policy does not trust the caller.

Paths under ``/moto-api/`` are always forwarded untouched. The proxy's own control API, never
forwarded: ``GET /fault-proxy/stats``, ``POST /fault-proxy/config`` (a JSON object with any of
``rate``, ``seed``, ``faults``, ``max_consecutive``, ``delays``, ``only``, ``headers``,
``deny_roles``),
``POST /fault-proxy/reset-stats``.

Faults are drawn from ``random.Random(seed)`` under a lock, so a seed gives the same sequence for
the same order of requests. ``--max-consecutive N`` never injects faults into more than N requests
in a row, nor into more than N attempts of one SDK call (the ``amz-sdk-invocation-id`` header, the
same on every retry), so that the SDK's bounded retries do not run out.

It prints ``listening on <port>`` once, and exits when its stdin reaches EOF, so a test process
that spawns it with a piped stdin stops it just by exiting. Run it by hand with
``sleep infinity | fault_proxy.py --upstream http://127.0.0.1:5000``.
"""

import argparse
import collections
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("throttle", "error", "error_after", "slow", "drop", "drop_after")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "trailers", "transfer-encoding", "upgrade", "expect", "content-length"}


class Faults:
    """The settings, the random sequence and the counters, shared by every handler thread."""

    def __init__(self, seed, rate, faults, max_consecutive):
        self.lock = threading.Lock()
        self.random = random.Random(seed)
        self.rate, self.faults, self.max_consecutive = rate, list(faults), max_consecutive
        self.delays, self.headers, self.only, self.deny_roles = {}, {}, set(), set()
        self.streak = 0  # faults injected into the latest requests, in a row
        self.per_call = collections.OrderedDict()  # invocation id -> faults injected into it
        self.reset_stats()

    def reset_stats(self):
        with self.lock:
            self.stats = {"requests": 0, "forwarded": 0, "upstream_errors": 0, "denied": 0,
                          "faults": dict.fromkeys(FAULTS, 0)}

    def count(self, key):
        with self.lock:
            self.stats[key] += 1

    def configure(self, settings):
        faults = settings.get("faults", self.faults)
        unknown = set(faults) - set(FAULTS)
        rate = float(settings.get("rate", self.rate))
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; the faults are {', '.join(FAULTS)}")
        if not 0 <= rate <= 1:
            raise ValueError(f"rate {rate} is outside [0, 1]")
        delays = {name: (float(low), float(high))
                  for name, (low, high) in settings.get("delays", self.delays).items()}
        if any(not 0 <= low <= high for low, high in delays.values()):
            raise ValueError(f"delays {delays} are not ranges [low, high] of seconds")
        headers = {str(name): str(value) for name, value in settings.get("headers", self.headers).items()}
        only = {str(name) for name in settings.get("only", self.only)}
        deny_roles = {str(role) for role in settings.get("deny_roles", self.deny_roles)}
        with self.lock:
            self.deny_roles = deny_roles
            self.rate, self.faults = rate, list(faults)
            self.delays, self.headers, self.only = delays, headers, only
            self.max_consecutive = settings.get("max_consecutive", self.max_consecutive)
            if "seed" in settings:
                self.random.seed(settings["seed"])

    def delay(self, target):
        """The time to hold a request for the operation ``target`` names, in seconds."""
        operation = (target or "").rsplit(".", 1)[-1]
        with self.lock:
            low, high = self.delays.get(operation, (0.0, 0.0))
            return self.random.uniform(low, high) if high > 0 else 0.0

    def choose(self, invocation, operation):
        """Counts a request and returns the fault to inject into it, or None."""
        with self.lock:
            self.stats["requests"] += 1
            draw = self.random.random()
            fault = self.random.choice(self.faults) if draw < self.rate and self.faults else None
            if self.only and operation not in self.only:
                fault = None
            limit = self.max_consecutive
            if fault and limit is not None and (
                    self.streak >= limit or self.per_call.get(invocation, 0) >= limit):
                fault = None
            if fault is None:
                self.streak = 0
                return None
            self.streak += 1
            self.stats["faults"][fault] += 1
            if invocation:
                self.per_call[invocation] = self.per_call.get(invocation, 0) + 1
                self.per_call.move_to_end(invocation)
                while len(self.per_call) > 10_000:
                    self.per_call.popitem(last=False)
            return fault


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK expects
    disable_nagle_algorithm = True  # headers and body go in separate writes
    faults: Faults
    upstream: urllib.parse.SplitResult
    verbose = False

    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def handle_any(self):
        body = self.read_body()  # read it all first, so closing the socket sends FIN, not RST
        if self.path.startswith("/fault-proxy/"):
            return self.control(body)
        if self.path.startswith("/moto-api/"):
            self.faults.count("requests")
            return self.relay(self.forward(body))
        if self.denied_role(body):
            return self.access_denied()
        fault = self.faults.choose(self.headers.get("amz-sdk-invocation-id"), self.operation(body))
        if fault == "throttle":
            return self.aws_error(400, "TooManyRequestsException", "Rate exceeded (injected)")
        if fault == "error":
            return self.aws_error(500, "ServiceException", "Internal failure (injected)")
        if fault == "drop":
            self.close_connection = True
            return None
        if fault == "slow":
            time.sleep(random.uniform(0.2, 0.8))
        if delay := self.faults.delay(self.headers.get("X-Amz-Target")):
            time.sleep(delay)
        response = self.forward(body)
        if fault == "error_after" and response:
            return self.aws_error(500, "ServiceException", "Internal failure after the change (injected)")
        if fault == "drop_after":
            self.close_connection = True
            return None
        return self.relay(response)

    def denied_role(self, body):
        """Whether the request assumes a role ``deny_roles`` names."""
        if self.operation(body) != "AssumeRole":
            return False
        text = urllib.parse.unquote_plus((body or b"").decode("utf-8", "replace"))
        with self.faults.lock:
            return any(role in text for role in self.faults.deny_roles)

    def access_denied(self):
        """STS's answer to a caller the role's trust policy does not trust."""
        self.faults.count("denied")
        message = "User is not authorized to perform: sts:AssumeRole (injected)"
        body = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
            f"<Type>Sender</Type><Code>AccessDenied</Code><Message>{message}</Message>"
            "</Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
        ).encode()
        self.send_response(403)
        self.send_header("Content-Type", "text/xml")
        return self.finish_response(body)

    def operation(self, body):
        """The operation a request calls: the end of ``X-Amz-Target`` (JSON protocols), else the
        ``Action`` of a form body (the query protocol of IAM and STS)."""
        target = self.headers.get("X-Amz-Target")
        if target:
            return target.rsplit(".", 1)[-1]
        form = urllib.parse.parse_qs((body or b"").decode("utf-8", "replace"))
        return (form.get("Action") or [""])[0]

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def forward(self, body):
        """Sends the request upstream; returns (status, reason, headers, body), or None."""
        skip = HOP_BY_HOP | {h.strip().lower() for h in self.headers.get("Connection", "").split(",")}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
        with self.faults.lock:
            headers.update(self.faults.headers)
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        try:
            connection.request(self.command, self.path, body or None, headers)
            response = connection.getresponse()
            result = (response.status, response.reason, response.getheaders(), response.read())
        except OSError:
            self.faults.count("upstream_errors")
            return None
        finally:
            connection.close()
        self.faults.count("forwarded")
        return result

    def relay(self, response):
        if response is None:
            return self.aws_error(502, "BadGateway", "the upstream did not answer")
        status, reason, headers, body = response
        self.send_response_only(status, reason)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        return self.finish_response(body)

    def aws_error(self, status, kind, message):
        body = json.dumps({"__type": kind, "message": message}).encode()
        self.send_response(status)
        self.send_header("x-amzn-ErrorType", kind)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        return self.finish_response(body)

    def finish_response(self, body):
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def control(self, body):
        answer = {}
        if self.command == "GET" and self.path == "/fault-proxy/stats":
            with self.faults.lock:
                answer = json.loads(json.dumps(self.faults.stats))
        elif self.command == "POST" and self.path == "/fault-proxy/config":
            try:
                self.faults.configure(json.loads(body or b"{}"))
            except (ValueError, TypeError, AttributeError) as error:
                return self.json(400, {"error": str(error)})
        elif self.command == "POST" and self.path == "/fault-proxy/reset-stats":
            self.faults.reset_stats()
        else:
            return self.json(404, {"error": f"no {self.command} {self.path}"})
        return self.json(200, answer)

    def json(self, status, value):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        return self.finish_response(json.dumps(value).encode())

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        if self.verbose:
            super().log_message(format, *args)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:5000")
    parser.add_argument("--port", type=int, default=0, help="0 chooses a free port")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rate", type=float, default=0.2, help="the fraction of requests to fault")
    parser.add_argument("--faults", default=",".join(FAULTS), help="a comma-separated subset of " + ",".join(FAULTS))
    parser.add_argument("--max-consecutive", type=int, default=None)
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = parser.parse_args()

    Handler.faults = Faults(args.seed, 0.0, [], args.max_consecutive)
    try:
        Handler.faults.configure({"rate": args.rate, "faults": [f for f in args.faults.split(",") if f]})
    except ValueError as error:
        parser.error(str(error))
    Handler.upstream = urllib.parse.urlsplit(args.upstream)
    Handler.verbose = args.verbose

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True  # idle keep-alive connections must not hold up the exit

    def watch_stdin():
        while sys.stdin.buffer.read(65536):
            pass
        server.shutdown()

    threading.Thread(target=watch_stdin, daemon=True).start()
    print(f"listening on {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
