"""A tiny raw-HTTP helper for the e2e tests (status, headers and body exactly as sent)."""
import http.client
import json as jsonlib


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return jsonlib.loads(self.body)

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def index(self):
        return int(self.headers["X-Consul-Index"])


def call(agent, method, path, body=None, headers=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", agent.port, timeout=timeout)
    if body is not None and not isinstance(body, (bytes, str)):
        body = jsonlib.dumps(body)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    hdrs = {k: v for k, v in r.getheaders()}
    conn.close()
    return Resp(r.status, hdrs, data)


def get(agent, path, **kw):
    return call(agent, "GET", path, **kw)


def put(agent, path, body=None, **kw):
    return call(agent, "PUT", path, body=body if body is not None else b"", **kw)


def delete(agent, path, **kw):
    return call(agent, "DELETE", path, **kw)
