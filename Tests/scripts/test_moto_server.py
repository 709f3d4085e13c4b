"""Scripts/moto-server: a real moto server process on 127.0.0.1 whose
CloudFormation creates API Gateway v2, CloudFront, Secrets Manager,
Application Auto Scaling and S3 bucket-policy resources in moto's backends,
driven through boto3 with SigV4 signature checking on."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import botocore.exceptions
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "Scripts" / "moto-server"

TEMPLATE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "Site": {"Type": "AWS::S3::Bucket"},
        "SignalApi": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {
            "Name": "otter-signal", "ProtocolType": "WEBSOCKET", "RouteSelectionExpression": "$request.body.action"}},
        "RestApi": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {
            "Name": "otter-rest", "ProtocolType": "HTTP",
            "CorsConfiguration": {"AllowOrigins": ["https://example.test"], "AllowMethods": ["GET", "POST"]}}},
        "JoinIntegration": {"Type": "AWS::ApiGatewayV2::Integration", "Properties": {
            "ApiId": {"Ref": "SignalApi"}, "IntegrationType": "AWS_PROXY",
            "IntegrationUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:ws_join/invocations"}},
        "ConnectAuthorizer": {"Type": "AWS::ApiGatewayV2::Authorizer", "Properties": {
            "ApiId": {"Ref": "SignalApi"}, "AuthorizerType": "REQUEST", "Name": "token",
            "IdentitySource": ["route.request.querystring.token"],
            "AuthorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:ws_authorizer/invocations"}},
        "KeyAuthorizer": {"Type": "AWS::ApiGatewayV2::Authorizer", "Properties": {
            "ApiId": {"Ref": "RestApi"}, "AuthorizerType": "REQUEST", "Name": "key",
            "AuthorizerPayloadFormatVersion": "2.0", "EnableSimpleResponses": True,
            "AuthorizerResultTtlInSeconds": 0, "IdentitySource": ["$request.header.x-api-key"],
            "AuthorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:http_key_authorizer/invocations"}},
        "JoinRoute": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {
            "ApiId": {"Ref": "SignalApi"}, "RouteKey": "join",
            "Target": {"Fn::Sub": "integrations/${JoinIntegration}"}}},
        "ConnectRoute": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {
            "ApiId": {"Ref": "SignalApi"}, "RouteKey": "$connect", "AuthorizationType": "CUSTOM",
            "AuthorizerId": {"Ref": "ConnectAuthorizer"}, "Target": {"Fn::Sub": "integrations/${JoinIntegration}"}}},
        "Deployment": {"Type": "AWS::ApiGatewayV2::Deployment", "DependsOn": ["JoinRoute", "ConnectRoute"],
                       "Properties": {"ApiId": {"Ref": "SignalApi"}}},
        "Stage": {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {
            "ApiId": {"Ref": "SignalApi"}, "StageName": "prod", "DeploymentId": {"Ref": "Deployment"},
            "DefaultRouteSettings": {"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 50}}},
        "SigningSecret": {"Type": "AWS::SecretsManager::Secret", "Properties": {
            "Description": "token signing", "GenerateSecretString": {"PasswordLength": 48, "ExcludePunctuation": True}}},
        "TurnSecret": {"Type": "AWS::SecretsManager::Secret", "Properties": {
            "Name": "otter-turn", "GenerateSecretString": {
                "SecretStringTemplate": "{}", "GenerateStringKey": "secret", "PasswordLength": 40, "ExcludePunctuation": True}}},
        "Oac": {"Type": "AWS::CloudFront::OriginAccessControl", "Properties": {"OriginAccessControlConfig": {
            "Name": "otter-oac", "OriginAccessControlOriginType": "s3", "SigningBehavior": "always",
            "SigningProtocol": "sigv4"}}},
        "Headers": {"Type": "AWS::CloudFront::ResponseHeadersPolicy", "Properties": {"ResponseHeadersPolicyConfig": {
            "Name": "otter-headers", "SecurityHeadersConfig": {"StrictTransportSecurity": {
                "AccessControlMaxAgeSec": 63072000, "IncludeSubdomains": True, "Override": True}}}}},
        "Cdn": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {
            "Enabled": True, "DefaultRootObject": "index.html", "HttpVersion": "http2",
            "Origins": [{"Id": "site", "DomainName": {"Fn::GetAtt": ["Site", "RegionalDomainName"]},
                         "OriginAccessControlId": {"Fn::GetAtt": ["Oac", "Id"]},
                         "S3OriginConfig": {"OriginAccessIdentity": ""}}],
            "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
                                     "AllowedMethods": ["GET", "HEAD"],
                                     "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
                                     "ResponseHeadersPolicyId": {"Ref": "Headers"}}}}},
        "SitePolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": "Site"}, "PolicyDocument": {
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
                "Resource": {"Fn::Sub": "arn:aws:s3:::${Site}/*"},
                "Condition": {"StringEquals": {"AWS:SourceArn": {
                    "Fn::Sub": "arn:aws:cloudfront::${AWS::AccountId}:distribution/${Cdn}"}}}}]}}},
        "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": "otter-cluster"}},
        "RelayTask": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
            "Family": "otter-relay", "RequiresCompatibilities": ["FARGATE"], "NetworkMode": "awsvpc",
            "Cpu": "256", "Memory": "512",
            "ContainerDefinitions": [{"Name": "relay", "Image": "coturn/coturn:4.6", "Essential": True}]}},
        "RelayService": {"Type": "AWS::ECS::Service", "Properties": {
            "Cluster": {"Ref": "Cluster"}, "ServiceName": "otter-relay", "TaskDefinition": {"Ref": "RelayTask"},
            "DesiredCount": 1, "LaunchType": "FARGATE"}},
        "RelayTarget": {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "DependsOn": "RelayService",
                        "Properties": {
            "ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount",
            "ResourceId": "service/otter-cluster/otter-relay", "MinCapacity": 1, "MaxCapacity": 4}},
        "RelayScaling": {"Type": "AWS::ApplicationAutoScaling::ScalingPolicy", "Properties": {
            "PolicyName": "otter-relay-cpu", "PolicyType": "TargetTrackingScaling",
            "ScalingTargetId": {"Ref": "RelayTarget"},
            "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 65.0, "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}}},
    },
    "Outputs": {
        "SignalUrl": {"Value": {"Fn::Sub": "${SignalApi.ApiEndpoint}/${Stage}"}},
        "ApiUrl": {"Value": {"Fn::GetAtt": ["RestApi", "ApiEndpoint"]}},
        "SignalApiId": {"Value": {"Ref": "SignalApi"}},
        "KeyAuthorizerId": {"Value": {"Ref": "KeyAuthorizer"}},
        "WebAppUrl": {"Value": {"Fn::Sub": "https://${Cdn.DomainName}"}},
        "DistributionId": {"Value": {"Ref": "Cdn"}},
        "SigningSecretArn": {"Value": {"Ref": "SigningSecret"}},
        "RouteId": {"Value": {"Ref": "JoinRoute"}},
        "PolicyArn": {"Value": {"Fn::GetAtt": ["RelayScaling", "Arn"]}},
    },
}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 60
    lines = []
    while time.time() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "listening on" in line:
            break
        if proc.poll() is not None:
            raise AssertionError("".join(lines))
    else:
        proc.kill()
        raise AssertionError("moto-server did not start: " + "".join(lines))
    assert "INITIAL_NO_AUTH_ACTION_COUNT=3" in "".join(lines)
    url = f"http://127.0.0.1:{port}"
    # the three unchecked requests: a user, its allow-all policy, its key
    bootstrap = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                             aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    bootstrap.create_user(UserName="otter-test")
    bootstrap.put_user_policy(UserName="otter-test", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = bootstrap.create_access_key(UserName="otter-test")["AccessKey"]
    try:
        yield url, key
    finally:
        proc.terminate()
        proc.wait(10)


def client(server, service, secret=None):
    url, key = server
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=key["AccessKeyId"],
                        aws_secret_access_key=secret or key["SecretAccessKey"])


def test_signature_checking_is_on(server):
    with pytest.raises(botocore.exceptions.ClientError) as err:
        client(server, "cloudformation", secret="wrong-secret").list_stacks()
    assert err.value.response["Error"]["Code"] in ("SignatureDoesNotMatch", "InvalidClientTokenId")
    client(server, "cloudformation").list_stacks()
    # GETs are checked too (moto-server fixes moto's payload hash for bodyless requests)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        client(server, "apigatewayv2", secret="wrong-secret").get_apis()
    assert err.value.response["Error"]["Code"] == "SignatureDoesNotMatch" or \
        "SignatureDoesNotMatch" in str(err.value)
    assert client(server, "apigatewayv2").get_apis()["Items"] == []


def test_stack_creates_real_resources(server):
    cfn = client(server, "cloudformation")
    cfn.create_stack(StackName="otter-moto", TemplateBody=json.dumps(TEMPLATE))
    stack = cfn.describe_stacks(StackName="otter-moto")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    out = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}

    apigw = client(server, "apigatewayv2")
    apis = {a["Name"]: a for a in apigw.get_apis()["Items"]}
    signal, rest = apis["otter-signal"], apis["otter-rest"]
    assert signal["ProtocolType"] == "WEBSOCKET" and signal["RouteSelectionExpression"] == "$request.body.action"
    assert out["SignalApiId"] == signal["ApiId"]
    assert out["SignalUrl"] == f"wss://{signal['ApiId']}.execute-api.us-east-1.amazonaws.com/prod"
    assert out["ApiUrl"] == rest["ApiEndpoint"] and out["ApiUrl"].startswith("https://")
    assert rest["CorsConfiguration"]["AllowOrigins"] == ["https://example.test"]
    routes = {r["RouteKey"]: r for r in apigw.get_routes(ApiId=signal["ApiId"])["Items"]}
    assert set(routes) == {"join", "$connect"} and out["RouteId"] == routes["join"]["RouteId"]
    [integ] = apigw.get_integrations(ApiId=signal["ApiId"])["Items"]
    assert routes["join"]["Target"] == f"integrations/{integ['IntegrationId']}"
    # (moto implements GetAuthorizer, not GetAuthorizers)
    auth = apigw.get_authorizer(ApiId=signal["ApiId"], AuthorizerId=routes["$connect"]["AuthorizerId"])
    assert auth["Name"] == "token" and auth["IdentitySource"] == ["route.request.querystring.token"]
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    key_auth = apigw.get_authorizer(ApiId=rest["ApiId"], AuthorizerId=out["KeyAuthorizerId"])
    assert key_auth["EnableSimpleResponses"] is True and key_auth["AuthorizerPayloadFormatVersion"] == "2.0"
    stage = apigw.get_stage(ApiId=signal["ApiId"], StageName="prod")
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 100

    sm = client(server, "secretsmanager")
    signing = sm.get_secret_value(SecretId=out["SigningSecretArn"])["SecretString"]
    assert len(signing) == 48 and signing.isalnum()
    turn = json.loads(sm.get_secret_value(SecretId="otter-turn")["SecretString"])
    assert len(turn["secret"]) == 40

    cf = client(server, "cloudfront")
    dist = cf.get_distribution(Id=out["DistributionId"])["Distribution"]
    assert out["WebAppUrl"] == f"https://{dist['DomainName']}"
    assert dist["DistributionConfig"]["DefaultRootObject"] == "index.html"
    assert dist["DistributionConfig"]["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    oacs = cf.list_origin_access_controls()["OriginAccessControlList"]["Items"]
    assert [o["Name"] for o in oacs] == ["otter-oac"]

    s3 = client(server, "s3")
    site = cfn.describe_stack_resource(StackName="otter-moto", LogicalResourceId="Site")["StackResourceDetail"]
    policy = json.loads(s3.get_bucket_policy(Bucket=site["PhysicalResourceId"])["Policy"])
    cond = policy["Statement"][0]["Condition"]["StringEquals"]["AWS:SourceArn"]
    assert cond == f"arn:aws:cloudfront::123456789012:distribution/{out['DistributionId']}"

    aas = client(server, "application-autoscaling")
    [target] = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 4)
    [pol] = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    assert pol["PolicyARN"] == out["PolicyArn"]
    assert pol["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 65.0

    cfn.delete_stack(StackName="otter-moto")
    assert apigw.get_apis()["Items"] == []
    assert aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []
    with pytest.raises(botocore.exceptions.ClientError):
        sm.describe_secret(SecretId="otter-turn")
