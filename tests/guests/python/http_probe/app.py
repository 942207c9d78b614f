"""`http_probe` test tool (Python, componentize-py): one HTTP request through
the host's `wasi:http`, answered as "STATUS\\n<headers>\\n\\n<body>" so tests
can see exactly what reached the guest (scrubbed secrets, refusals).

Arguments: {"url": "http://…", "method": "GET", "body": ""}.
"""

import json

import wit_world
from componentize_py_types import Err, Ok
from wit_world.imports import outgoing_handler, streams
from wit_world.imports import wasi_http_types as h
from wit_world.imports.kennel_guest_types import ToolSpec

METHODS = {
    "GET": h.Method_Get(),
    "HEAD": h.Method_Head(),
    "POST": h.Method_Post(),
    "PUT": h.Method_Put(),
    "DELETE": h.Method_Delete(),
}


def split(url: str):
    if url.startswith("https://"):
        scheme, rest = h.Scheme_Https(), url[8:]
    elif url.startswith("http://"):
        scheme, rest = h.Scheme_Http(), url[7:]
    else:
        raise Err("url must be http:// or https://")
    slash = rest.find("/")
    if slash < 0:
        return scheme, rest, "/"
    return scheme, rest[:slash], rest[slash:]


def describe_error(e) -> str:
    if isinstance(e, h.ErrorCode_InternalError) and e.value:
        return e.value
    return type(e).__name__.replace("ErrorCode_", "")


def request(url: str, method: str, body: str) -> str:
    scheme, authority, path = split(url)
    req = h.OutgoingRequest(h.Fields.from_list([("user-agent", b"kennel-http-probe")]))
    req.set_method(METHODS.get(method.upper(), h.Method_Other(method.upper())))
    req.set_scheme(scheme)
    req.set_authority(authority)
    req.set_path_with_query(path)
    out = req.body()
    if body:
        stream = out.write()
        stream.blocking_write_and_flush(body.encode())
        del stream
    h.OutgoingBody.finish(out, None)
    future = outgoing_handler.handle(req, None)
    future.subscribe().block()
    got = future.get()
    if got is None or isinstance(got, Err):
        raise Err("no response")
    inner = got.value
    if isinstance(inner, Err):
        raise Err("refused: " + describe_error(inner.value))
    resp = inner.value
    status = resp.status()
    headers = resp.headers().entries()
    incoming = resp.consume()
    stream = incoming.stream()
    data = b""
    while True:
        try:
            data += stream.blocking_read(65536)
        except Err as e:
            if isinstance(e.value, streams.StreamError_Closed):
                break
            raise Err("read failed")
    lines = [f"{k}: {v.decode(errors='replace')}" for k, v in headers]
    return f"{status}\n" + "\n".join(lines) + "\n\n" + data.decode(errors="replace")


class WitWorld(wit_world.WitWorld):
    def describe(self) -> ToolSpec:
        return ToolSpec(
            name="http_probe",
            description="One HTTP request; returns status, headers and body.",
            parameters=json.dumps(
                {
                    "type": "object",
                    "properties": {
                        "url": {"type": "string"},
                        "method": {"type": "string"},
                        "body": {"type": "string"},
                    },
                    "required": ["url"],
                }
            ),
        )

    def invoke(self, arguments: str) -> str:
        try:
            a = json.loads(arguments)
        except ValueError as e:
            raise Err(f"arguments are not JSON: {e}")
        return request(a["url"], a.get("method", "GET"), a.get("body", ""))
