"""Scripts/moto-server on a loopback port of its own (it binds port 0 and
prints the port it got, so no port is picked and hoped for) with SigV4 signature checking
on, and an IAM user whose key signs every later request. Shared by the CLI
tests (doctor, deploy) so they all run against the same kind of endpoint.

    from moto_signed import MotoServer
    with MotoServer() as m: ... m.url, m.key_id, m.secret, m.client("s3")
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]
ALLOW_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'


class MotoServer:
    def __init__(self, user="tester", region="us-east-1"):
        self.user, self.region = user, region

    def __enter__(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        # The first 3 requests (create user, policy, key) are not checked; every later one is.
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "Scripts/moto-server"), "--port", "0"], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.banner = []
        deadline = time.time() + 180  # importing moto takes long on a loaded machine
        while not (self.banner and "listening on" in self.banner[-1]):
            if self.proc.poll() is not None or time.time() > deadline:
                self.proc.kill()
                raise RuntimeError("moto-server did not start: " + "".join(self.banner))
            self.banner.append(self.proc.stdout.readline())
        self.url = self.banner[-1].split("listening on ", 1)[1].strip()
        iam = boto3.client("iam", endpoint_url=self.url, region_name=self.region,
                           aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
        iam.create_user(UserName=self.user)
        iam.put_user_policy(UserName=self.user, PolicyName="all", PolicyDocument=ALLOW_ALL)
        key = iam.create_access_key(UserName=self.user)["AccessKey"]
        self.key_id, self.secret = key["AccessKeyId"], key["SecretAccessKey"]
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()

    def client(self, service):
        return boto3.client(service, endpoint_url=self.url, region_name=self.region,
                            aws_access_key_id=self.key_id, aws_secret_access_key=self.secret)

    def env(self, home, secret=None, **extra):
        """The environment for an `otter` process talking to this server."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(HOME=str(home), AWS_ACCESS_KEY_ID=self.key_id, AWS_SECRET_ACCESS_KEY=secret or self.secret,
                   AWS_REGION=self.region, AWS_ENDPOINT_URL=self.url, **extra)
        return env
