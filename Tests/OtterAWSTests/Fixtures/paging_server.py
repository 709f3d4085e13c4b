"""A tiny HTTP server that answers paged S3 and CloudFormation listings, so the
clients' continuation logic is tested (moto mis-verifies the signatures of the
S3 listing forms that would page there).

usage: paging_server.py PORT   (0: a free one, printed as "listening on http://127.0.0.1:PORT")
"""
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])


def xml(handler, body):
    data = body.encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/xml")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        if q.get("list-type") == "2":
            token = q.get("continuation-token")
            page = {None: (range(0, 3), "tok-1"), "tok-1": (range(3, 6), "tok-2"), "tok-2": (range(6, 7), None)}[token]
            contents = "".join(f"<Contents><Key>k{i}</Key><Size>{i}</Size><ETag>e{i}</ETag></Contents>" for i in page[0])
            more = f"<IsTruncated>true</IsTruncated><NextContinuationToken>{page[1]}</NextContinuationToken>" if page[1] else "<IsTruncated>false</IsTruncated>"
            return xml(self, f"<ListBucketResult>{contents}{more}</ListBucketResult>")
        if "versions" in q:
            if q.get("key-marker") is None:
                return xml(self, "<ListVersionsResult><Version><Key>a</Key><VersionId>v1</VersionId></Version>"
                                 "<DeleteMarker><Key>a</Key><VersionId>v2</VersionId></DeleteMarker>"
                                 "<IsTruncated>true</IsTruncated><NextKeyMarker>a</NextKeyMarker><NextVersionIdMarker>v2</NextVersionIdMarker></ListVersionsResult>")
            assert q["key-marker"] == "a" and q["version-id-marker"] == "v2", q
            return xml(self, "<ListVersionsResult><Version><Key>b</Key><VersionId>null</VersionId></Version><IsTruncated>false</IsTruncated></ListVersionsResult>")
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        form = dict(urllib.parse.parse_qsl(body))
        if form.get("Action") == "DescribeStackEvents":
            token = form.get("NextToken")
            n, nxt = {None: (0, "n1"), "n1": (1, None)}[token]
            events = f"<member><EventId>e{n}</EventId><LogicalResourceId>R{n}</LogicalResourceId><ResourceType>T</ResourceType><ResourceStatus>CREATE_COMPLETE</ResourceStatus></member>"
            more = f"<NextToken>{nxt}</NextToken>" if nxt else ""
            return xml(self, f"<DescribeStackEventsResponse><DescribeStackEventsResult><StackEvents>{events}</StackEvents>{more}</DescribeStackEventsResult></DescribeStackEventsResponse>")
        self.send_response(400)
        self.send_header("Content-Length", "0")
        self.end_headers()


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
print(f"listening on http://127.0.0.1:{server.server_port}", flush=True)  # PORT 0: the one it got
server.serve_forever()
