"""A tiny HTTP server for retry tests: answers a scripted list of statuses.

usage: scripted_server.py PORT ANSWERS   (ANSWERS like "503,throttle,400,200"; PORT 0: a free one,
printed as "listening on http://127.0.0.1:PORT")
GET /__count returns how many scripted answers were consumed.
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port = int(sys.argv[1])
answers = sys.argv[2].split(",")
count = 0

OK = b"""<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/test</Arn><UserId>AID</UserId><Account>123456789012</Account></GetCallerIdentityResult>
</GetCallerIdentityResponse>"""


def error(code, message, kind="Sender"):
    return (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>r-1</RequestId></ErrorResponse>").encode()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        body = str(count).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        global count
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        answer = answers[min(count, len(answers) - 1)]
        count += 1
        if answer == "200":
            status, body = 200, OK
        elif answer == "throttle":
            status, body = 400, error("Throttling", "Rate exceeded")
        elif answer == "400":
            status, body = 400, error("ValidationError", "1 validation error detected")
        else:
            status, body = int(answer), error("InternalFailure", "try again", "Receiver")
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
print(f"listening on http://127.0.0.1:{server.server_port}", flush=True)  # PORT 0: the one it got
server.serve_forever()
