"""Scripts/moto-server: a real moto server process on 127.0.0.1 whose
CloudFormation creates API Gateway v2, CloudFront, Secrets Manager,
Application Auto Scaling and S3 bucket-policy resources in moto's backends,
driven through boto3 with SigV4 signature checking on."""

import json
import subprocess
import sys
from pathlib import Path

import boto3
import botocore.exceptions
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "support"))
from moto_signed import MotoServer  # noqa: E402  (Scripts/moto-server, signature checking on)
from otter_testing import otter_binary  # noqa: E402

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


@pytest.fixture(scope="module")
def server():
    with MotoServer(user="otter-test") as m:
        assert any("INITIAL_NO_AUTH_ACTION_COUNT=3" in line for line in m.banner), m.banner
        yield m.url, {"AccessKeyId": m.key_id, "SecretAccessKey": m.secret}


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


# ------------------------------------------------------------------ stack events and failures as AWS

def _events(cfn, stack):
    """The stack's events oldest first (DescribeStackEvents answers newest first, paged)."""
    events = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=stack):
        events.extend(page["StackEvents"])
    return list(reversed(events))


def _brief(events, with_stack=True):
    return [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events
            if with_stack or e["ResourceType"] != "AWS::CloudFormation::Stack"]


def _stack(cfn, name):
    return cfn.describe_stacks(StackName=name)["Stacks"][0]


SMALL = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30}},
        "Table": {"Type": "AWS::DynamoDB::Table", "DependsOn": "Queue", "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::Sub": "${Table}-topic"}}},
    },
}


def test_resource_events_for_create_update_delete(server):
    cfn = client(server, "cloudformation")
    stack_id = cfn.create_stack(StackName="events", TemplateBody=json.dumps(SMALL))["StackId"]
    assert _stack(cfn, "events")["StackStatus"] == "CREATE_COMPLETE"
    events = _events(cfn, "events")
    # dependencies first (DependsOn, then the Ref in Topic's name), each IN_PROGRESS then COMPLETE
    assert _brief(events) == [
        ("events", "CREATE_IN_PROGRESS"),
        ("Queue", "CREATE_IN_PROGRESS"), ("Queue", "CREATE_COMPLETE"),
        ("Table", "CREATE_IN_PROGRESS"), ("Table", "CREATE_COMPLETE"),
        ("Topic", "CREATE_IN_PROGRESS"), ("Topic", "CREATE_COMPLETE"),
        ("events", "CREATE_COMPLETE"),
    ]
    assert events[0]["ResourceStatusReason"] == "User Initiated"
    assert events[0]["PhysicalResourceId"] == stack_id
    # newest first from the API itself
    assert cfn.describe_stack_events(StackName="events")["StackEvents"][0]["ResourceStatus"] == "CREATE_COMPLETE"
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                for r in cfn.describe_stack_resources(StackName="events")["StackResources"]}
    for e in events[1:-1]:
        assert e["StackId"] == stack_id and e["StackName"] == "events"
        assert e["ResourceType"] == SMALL["Resources"][e["LogicalResourceId"]]["Type"]
        if e["ResourceStatus"] == "CREATE_COMPLETE":
            assert e["PhysicalResourceId"] == physical[e["LogicalResourceId"]] != ""
        else:  # AWS's first CREATE_IN_PROGRESS has no physical id yet, and the properties
            assert e["PhysicalResourceId"] == ""
    table_props = json.loads(next(e for e in events if e["LogicalResourceId"] == "Table")["ResourceProperties"])
    assert table_props["BillingMode"] == "PAY_PER_REQUEST"

    # update: Queue modified, Bucket added, Topic removed
    updated = json.loads(json.dumps(SMALL))
    updated["Resources"]["Queue"]["Properties"]["VisibilityTimeout"] = 60
    updated["Resources"]["Bucket"] = {"Type": "AWS::S3::Bucket"}
    del updated["Resources"]["Topic"]
    cfn.update_stack(StackName="events", TemplateBody=json.dumps(updated))
    assert _stack(cfn, "events")["StackStatus"] == "UPDATE_COMPLETE"
    new = _brief(_events(cfn, "events")[len(events):])
    assert new == [
        ("events", "UPDATE_IN_PROGRESS"),
        ("Queue", "UPDATE_IN_PROGRESS"), ("Queue", "UPDATE_COMPLETE"),
        ("Bucket", "CREATE_IN_PROGRESS"), ("Bucket", "CREATE_COMPLETE"),
        ("events", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
        ("Topic", "DELETE_IN_PROGRESS"), ("Topic", "DELETE_COMPLETE"),
        ("events", "UPDATE_COMPLETE"),
    ]
    sns = client(server, "sns")
    assert [t for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith("-topic")] == []
    queue_url = client(server, "sqs").get_queue_url(QueueName=physical["Queue"].rsplit("/", 1)[-1])["QueueUrl"]
    attrs = client(server, "sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])
    assert attrs["Attributes"]["VisibilityTimeout"] == "60"
    count = len(_events(cfn, "events"))

    cfn.delete_stack(StackName="events")
    deleted = _events(cfn, stack_id)
    assert _stack(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    # newest resource first
    assert _brief(deleted[count:]) == [
        ("events", "DELETE_IN_PROGRESS"),
        ("Bucket", "DELETE_IN_PROGRESS"), ("Bucket", "DELETE_COMPLETE"),
        ("Table", "DELETE_IN_PROGRESS"), ("Table", "DELETE_COMPLETE"),
        ("Queue", "DELETE_IN_PROGRESS"), ("Queue", "DELETE_COMPLETE"),
        ("events", "DELETE_COMPLETE"),
    ]
    assert client(server, "dynamodb").list_tables()["TableNames"] == []


FAILING = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"Min": {"Type": "Number"}, "Max": {"Type": "Number"}},
    "Resources": {
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}},
        "Reads": {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {
            "ServiceNamespace": "dynamodb", "ScalableDimension": "dynamodb:table:ReadCapacityUnits",
            "ResourceId": {"Fn::Sub": "table/${Table}"},
            "MinCapacity": {"Ref": "Min"}, "MaxCapacity": {"Ref": "Max"}}},
    },
    "Outputs": {"TableName": {"Value": {"Ref": "Table"}}},
}
CAPACITY_MESSAGE = "Minimum capacity cannot be greater than maximum capacity"


def _params(**values):
    return [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in values.items()]


def test_create_stack_failure_rolls_back(server):
    cfn = client(server, "cloudformation")
    ddb = client(server, "dynamodb")
    # the call succeeds; the failure is reported through the stack
    stack_id = cfn.create_stack(StackName="fails", TemplateBody=json.dumps(FAILING),
                                Parameters=_params(Min=3, Max=2))["StackId"]
    stack = _stack(cfn, "fails")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    reason = "The following resource(s) failed to create: [Reads]. Rollback requested by user."
    assert stack["StackStatusReason"] == reason
    assert "Outputs" not in stack
    events = _events(cfn, stack_id)
    assert _brief(events) == [
        ("fails", "CREATE_IN_PROGRESS"),
        ("Table", "CREATE_IN_PROGRESS"), ("Table", "CREATE_COMPLETE"),
        ("Reads", "CREATE_IN_PROGRESS"), ("Reads", "CREATE_FAILED"),
        ("fails", "ROLLBACK_IN_PROGRESS"),
        ("Table", "DELETE_IN_PROGRESS"), ("Table", "DELETE_COMPLETE"),
        ("Reads", "DELETE_COMPLETE"),
        ("fails", "ROLLBACK_COMPLETE"),
    ]
    failed = events[4]
    assert failed["ResourceStatusReason"] == CAPACITY_MESSAGE
    assert failed["ResourceType"] == "AWS::ApplicationAutoScaling::ScalableTarget"
    assert events[5]["ResourceStatusReason"] == reason
    table = events[2]["PhysicalResourceId"]
    assert events[6]["PhysicalResourceId"] == events[7]["PhysicalResourceId"] == table
    with pytest.raises(botocore.exceptions.ClientError) as err:
        ddb.describe_table(TableName=table)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert cfn.list_stack_resources(StackName=stack_id)["StackResourceSummaries"] == []
    aas = client(server, "application-autoscaling")
    assert aas.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"] == []
    # the rolled-back stack can only be deleted, as on AWS
    with pytest.raises(botocore.exceptions.ClientError) as err:
        cfn.update_stack(StackName="fails", TemplateBody=json.dumps(FAILING), Parameters=_params(Min=1, Max=2))
    assert "ROLLBACK_COMPLETE" in str(err.value)
    cfn.delete_stack(StackName="fails")
    assert _stack(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    assert _brief(_events(cfn, stack_id))[-2:] == [("fails", "DELETE_IN_PROGRESS"), ("fails", "DELETE_COMPLETE")]


def test_update_stack_failure_rolls_back(server):
    cfn = client(server, "cloudformation")
    aas = client(server, "application-autoscaling")
    cfn.create_stack(StackName="upd", TemplateBody=json.dumps(FAILING), Parameters=_params(Min=1, Max=5))
    assert _stack(cfn, "upd")["StackStatus"] == "CREATE_COMPLETE"
    table = _stack(cfn, "upd")["Outputs"][0]["OutputValue"]
    before = len(_events(cfn, "upd"))
    added = json.loads(json.dumps(FAILING))
    added["Resources"]["Queue"] = {"Type": "AWS::SQS::Queue"}
    added["Resources"]["Reads"]["DependsOn"] = "Queue"
    cfn.update_stack(StackName="upd", TemplateBody=json.dumps(added), Parameters=_params(Min=9, Max=5))
    stack = _stack(cfn, "upd")
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    events = _events(cfn, "upd")[before:]
    assert _brief(events) == [
        ("upd", "UPDATE_IN_PROGRESS"),
        ("Queue", "CREATE_IN_PROGRESS"), ("Queue", "CREATE_COMPLETE"),
        ("Reads", "UPDATE_IN_PROGRESS"), ("Reads", "UPDATE_FAILED"),
        ("upd", "UPDATE_ROLLBACK_IN_PROGRESS"),
        ("Reads", "UPDATE_IN_PROGRESS"), ("Reads", "UPDATE_COMPLETE"),
        ("upd", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"),
        ("Queue", "DELETE_IN_PROGRESS"), ("Queue", "DELETE_COMPLETE"),
        ("upd", "UPDATE_ROLLBACK_COMPLETE"),
    ]
    assert events[4]["ResourceStatusReason"] == CAPACITY_MESSAGE
    assert events[5]["ResourceStatusReason"] == "The following resource(s) failed to update: [Reads]. "
    # the old resources, parameters and outputs are kept; the added queue is gone
    [target] = aas.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 5)
    client(server, "dynamodb").describe_table(TableName=table)
    assert client(server, "sqs").list_queues().get("QueueUrls", []) == []
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {"Min": "1", "Max": "5"}
    assert stack["Outputs"][0]["OutputValue"] == table
    assert {r["LogicalResourceId"] for r in cfn.list_stack_resources(StackName="upd")["StackResourceSummaries"]} \
        == {"Table", "Reads"}
    # and it can still be updated
    cfn.update_stack(StackName="upd", TemplateBody=json.dumps(FAILING), Parameters=_params(Min=2, Max=5))
    assert _stack(cfn, "upd")["StackStatus"] == "UPDATE_COMPLETE"
    [target] = aas.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 5)
    cfn.delete_stack(StackName="upd")


def test_delete_failure_is_delete_failed(server):
    cfn = client(server, "cloudformation")
    s3 = client(server, "s3")
    template = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"},
                              "Bucket": {"Type": "AWS::S3::Bucket", "DependsOn": "Queue"}}}
    stack_id = cfn.create_stack(StackName="keep", TemplateBody=json.dumps(template))["StackId"]
    bucket = cfn.describe_stack_resource(StackName="keep", LogicalResourceId="Bucket")[
        "StackResourceDetail"]["PhysicalResourceId"]
    s3.put_object(Bucket=bucket, Key="object", Body=b"x")  # AWS refuses to delete a bucket that is not empty
    before = len(_events(cfn, "keep"))
    cfn.delete_stack(StackName="keep")
    stack = _stack(cfn, "keep")
    assert stack["StackStatus"] == "DELETE_FAILED"
    assert stack["StackStatusReason"] == "The following resource(s) failed to delete: [Bucket]. "
    events = _events(cfn, "keep")[before:]
    assert _brief(events) == [
        ("keep", "DELETE_IN_PROGRESS"),
        ("Queue", "DELETE_IN_PROGRESS"), ("Queue", "DELETE_COMPLETE"),
        ("Bucket", "DELETE_IN_PROGRESS"), ("Bucket", "DELETE_FAILED"),
        ("keep", "DELETE_FAILED"),
    ]
    assert "not empty" in events[4]["ResourceStatusReason"]
    s3.delete_object(Bucket=bucket, Key="object")
    cfn.delete_stack(StackName="keep")
    assert _stack(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    assert _brief(_events(cfn, stack_id))[-4:] == [
        ("keep", "DELETE_IN_PROGRESS"), ("Bucket", "DELETE_IN_PROGRESS"), ("Bucket", "DELETE_COMPLETE"),
        ("keep", "DELETE_COMPLETE")]


# AWS::CloudWatch::Alarm is a real type moto 5.2 has no CloudFormation model for; moto alone would
# skip it and report CREATE_COMPLETE. If a moto release models it, pick another unmodelled type.
UNMODELLED_TYPE = "AWS::CloudWatch::Alarm"
WITH_UNMODELLED = {"Resources": {
    "Queue": {"Type": "AWS::SQS::Queue"},
    "Alarm": {"Type": UNMODELLED_TYPE, "DependsOn": "Queue", "Properties": {
        "MetricName": "ApproximateNumberOfMessagesVisible", "Namespace": "AWS/SQS", "Statistic": "Maximum",
        "Period": 60, "EvaluationPeriods": 1, "Threshold": 100, "ComparisonOperator": "GreaterThanThreshold"}}}}


def test_an_unmodelled_resource_type_fails_the_stack_naming_the_type(server):
    cfn = client(server, "cloudformation")
    stack_id = cfn.create_stack(StackName="unmodelled", TemplateBody=json.dumps(WITH_UNMODELLED))["StackId"]
    stack = _stack(cfn, stack_id)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert stack["StackStatusReason"] == \
        "The following resource(s) failed to create: [Alarm]. Rollback requested by user."
    [failed] = [e for e in _events(cfn, stack_id) if e["ResourceStatus"] == "CREATE_FAILED"]
    assert (failed["LogicalResourceId"], failed["ResourceType"]) == ("Alarm", UNMODELLED_TYPE)
    assert UNMODELLED_TYPE in failed["ResourceStatusReason"] and "no CloudFormation model" in failed["ResourceStatusReason"]
    assert client(server, "sqs").list_queues().get("QueueUrls", []) == []  # rolled back
    cfn.delete_stack(StackName=stack_id)


def test_an_unmodelled_resource_type_added_by_an_update_fails_the_update(server):
    cfn = client(server, "cloudformation")
    cfn.create_stack(StackName="unmodelled-upd", TemplateBody=json.dumps(
        {"Resources": {"Queue": WITH_UNMODELLED["Resources"]["Queue"]}}))
    cfn.update_stack(StackName="unmodelled-upd", TemplateBody=json.dumps(WITH_UNMODELLED))
    stack = _stack(cfn, "unmodelled-upd")
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    [failed] = [e for e in _events(cfn, "unmodelled-upd") if e["ResourceStatus"].endswith("_FAILED")]
    assert failed["LogicalResourceId"] == "Alarm" and UNMODELLED_TYPE in failed["ResourceStatusReason"]
    cfn.delete_stack(StackName="unmodelled-upd")


# ------------------------------------------------------------------ the Otter stack through change sets

OTTER = Path(otter_binary())


@pytest.fixture(scope="module")
def otter_template(server):
    """The real Otter template (~95 KB, over CreateChangeSet's 51,200-byte TemplateBody limit),
    uploaded to a moto bucket; returns (TemplateURL, the parsed template, the artifacts bucket)."""
    if not OTTER.exists():
        pytest.skip(f"{OTTER} not built (swift build)")
    body = subprocess.run([str(OTTER), "template"], check=True, capture_output=True).stdout
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="otter-artifacts")
    s3.put_object(Bucket="otter-artifacts", Key="handlers/0123abcd.zip", Body=b"PK\x05\x06" + b"\0" * 18)
    s3.put_object(Bucket="otter-artifacts", Key="templates/otter.json", Body=body)
    return ("https://otter-artifacts.s3.us-east-1.amazonaws.com/templates/otter.json", json.loads(body),
            "otter-artifacts")


def _otter_change_set(cfn, template, name, kind, **params):
    url, _, bucket = template
    values = {"ArtifactsBucket": bucket, "HandlersKey": "handlers/0123abcd.zip", **params}
    cs = cfn.create_change_set(StackName="otter", ChangeSetName=name, ChangeSetType=kind, TemplateURL=url,
                               Parameters=_params(**values),
                               Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"])
    assert cfn.describe_change_set(ChangeSetName=cs["Id"])["Status"] == "CREATE_COMPLETE"
    response = cfn.execute_change_set(ChangeSetName=cs["Id"])
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200  # the call itself succeeds
    return cs["Id"]


def _check_pairs(events, start, end):
    """Every resource event is IN_PROGRESS directly followed by the same resource's end state."""
    body = [e for e in events if e["ResourceType"] != "AWS::CloudFormation::Stack"]
    assert len(body) % 2 == 0
    for first, second in zip(body[::2], body[1::2]):
        assert first["ResourceStatus"] == start, first
        assert second["LogicalResourceId"] == first["LogicalResourceId"] and second["ResourceStatus"] in end, \
            (first, second)


def _without_retained(deleting, created, resources):
    """Deletion events and created resources without the retained ones, after checking that
    each retained resource that was created got exactly one DELETE_SKIPPED event."""
    retained = {n for n, r in resources.items() if r.get("DeletionPolicy") == "Retain"}
    skipped = [e["LogicalResourceId"] for e in deleting if e["ResourceStatus"] == "DELETE_SKIPPED"]
    assert sorted(skipped) == sorted(e["LogicalResourceId"] for e in created if e["LogicalResourceId"] in retained)
    return ([e for e in deleting if e["ResourceStatus"] != "DELETE_SKIPPED"],
            [e for e in created if e["LogicalResourceId"] not in retained])


def _dependencies(resources, name):
    deps = set()

    def walk(value):
        if isinstance(value, dict):
            for k, v in value.items():
                if k == "Ref" and v in resources:
                    deps.add(v)
                elif k == "Fn::GetAtt":
                    deps.add(v[0])
                elif k == "Fn::Sub":
                    text = v[0] if isinstance(v, list) else v
                    deps.update(m.split(".")[0] for m in __import__("re").findall(r"\$\{([^!}][^}]*)\}", text)
                                if m.split(".")[0] in resources)
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(resources[name].get("Properties", {}))
    depends = resources[name].get("DependsOn", [])
    deps.update([depends] if isinstance(depends, str) else depends)
    return deps


def test_otter_change_set_failure_rolls_back(server, otter_template):
    cfn = client(server, "cloudformation")
    _, template, _ = otter_template
    resources = template["Resources"]
    cs = _otter_change_set(cfn, otter_template, "first", "CREATE", RelayMinTasks=5, RelayMaxTasks=2)
    stack = _stack(cfn, "otter")
    stack_id = stack["StackId"]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    reason = "The following resource(s) failed to create: [RelayScalableTarget]. Rollback requested by user."
    assert stack["StackStatusReason"] == reason
    assert cfn.describe_change_set(ChangeSetName=cs)["ExecutionStatus"] == "EXECUTE_FAILED"
    events = _events(cfn, stack_id)
    statuses = [e["ResourceStatus"] for e in events]
    failed_at = statuses.index("CREATE_FAILED")
    rollback_at = statuses.index("ROLLBACK_IN_PROGRESS")
    assert _brief(events[:2]) == [("otter", "REVIEW_IN_PROGRESS"), ("otter", "CREATE_IN_PROGRESS")]
    assert [e for e in events if e["ResourceStatus"].endswith("FAILED")] == [events[failed_at]]
    failed = events[failed_at]
    assert (failed["LogicalResourceId"], failed["ResourceType"]) == \
        ("RelayScalableTarget", "AWS::ApplicationAutoScaling::ScalableTarget")
    assert failed["ResourceStatusReason"] == CAPACITY_MESSAGE
    assert rollback_at == failed_at + 1 and events[rollback_at]["ResourceStatusReason"] == reason
    assert _brief(events[-1:]) == [("otter", "ROLLBACK_COMPLETE")]

    # creation: pairs, in dependency order, the failing one's dependencies created before it
    assert _brief(events[failed_at - 1:failed_at]) == [("RelayScalableTarget", "CREATE_IN_PROGRESS")]
    creating = events[2:failed_at - 1]
    _check_pairs(creating, "CREATE_IN_PROGRESS", ("CREATE_COMPLETE",))
    created = [e for e in creating if e["ResourceStatus"] == "CREATE_COMPLETE"]
    done = set()
    for e in created + [failed]:
        name = e["LogicalResourceId"]
        assert resources[name]["Type"] == e["ResourceType"]
        missing = {d for d in _dependencies(resources, name) if d not in done}
        # (a dependency moto does not model is skipped silently and has no event)
        assert not any(x["LogicalResourceId"] in missing for x in events), (name, missing)
        done.add(name)
    assert {"RelayService", "ConfigTable", "RoomsTable", "ConnectionsTable"} <= done

    # rollback: every created resource deleted, newest first, then the failed one; a retained
    # one (DeletionPolicy Retain) gets a single DELETE_SKIPPED event instead, as on AWS
    deleting, created = _without_retained(events[rollback_at + 1:-1], created, resources)
    _check_pairs(deleting[:-1], "DELETE_IN_PROGRESS", ("DELETE_COMPLETE",))
    assert [e["LogicalResourceId"] for e in deleting[:-1:2]] == [e["LogicalResourceId"] for e in reversed(created)]
    assert [e["PhysicalResourceId"] for e in deleting[1:-1:2]] == [e["PhysicalResourceId"] for e in reversed(created)]
    assert _brief(deleting[-1:]) == [("RelayScalableTarget", "DELETE_COMPLETE")]

    # nothing is left behind
    tables = [e["PhysicalResourceId"] for e in created if e["ResourceType"] == "AWS::DynamoDB::Table"]
    assert len(tables) == 3
    ddb = client(server, "dynamodb")
    for table in tables:
        with pytest.raises(botocore.exceptions.ClientError) as err:
            ddb.describe_table(TableName=table)
        assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert ddb.list_tables()["TableNames"] == []
    assert client(server, "apigatewayv2").get_apis()["Items"] == []
    assert client(server, "secretsmanager").list_secrets()["SecretList"] == []
    ec2 = client(server, "ec2")
    assert [v for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]] == []
    assert client(server, "lambda").list_functions()["Functions"] == []
    assert client(server, "application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs")["ScalableTargets"] == []
    assert cfn.list_stack_resources(StackName=stack_id)["StackResourceSummaries"] == []
    assert "Outputs" not in stack

    cfn.delete_stack(StackName="otter")
    assert _stack(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"


def test_otter_change_set_update_and_failed_update(server, otter_template):
    cfn = client(server, "cloudformation")
    aas = client(server, "application-autoscaling")
    ecs = client(server, "ecs")
    _otter_change_set(cfn, otter_template, "create", "CREATE")
    stack = _stack(cfn, "otter")
    stack_id = stack["StackId"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    events = _events(cfn, stack_id)
    created = [e for e in events if e["ResourceStatus"] == "CREATE_COMPLETE" and e["LogicalResourceId"] != "otter"]
    _check_pairs(events[2:-1], "CREATE_IN_PROGRESS", ("CREATE_COMPLETE",))
    assert _brief(events[-1:]) == [("otter", "CREATE_COMPLETE")]
    summaries = cfn.list_stack_resources(StackName="otter")["StackResourceSummaries"]
    assert {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in summaries} == \
        {e["LogicalResourceId"]: e["PhysicalResourceId"] for e in created}
    cluster = next(e["PhysicalResourceId"] for e in created if e["LogicalResourceId"] == "RelayCluster")
    service = next(e["PhysicalResourceId"] for e in created if e["LogicalResourceId"] == "RelayService")

    def capacity():
        [target] = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
        [svc] = ecs.describe_services(cluster=cluster, services=[service])["services"]
        return target["MinCapacity"], target["MaxCapacity"], svc["desiredCount"]

    assert capacity() == (1, 4, 1)

    # a good update: the scalable target changes in place
    before = len(events)
    _otter_change_set(cfn, otter_template, "more", "UPDATE", RelayMaxTasks=6)
    assert _stack(cfn, "otter")["StackStatus"] == "UPDATE_COMPLETE"
    events = _events(cfn, stack_id)
    assert _brief(events[before:]) == [
        ("otter", "UPDATE_IN_PROGRESS"),
        ("RelayScalableTarget", "UPDATE_IN_PROGRESS"), ("RelayScalableTarget", "UPDATE_COMPLETE"),
        ("otter", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
        ("otter", "UPDATE_COMPLETE"),
    ]
    assert capacity() == (1, 6, 1)

    # a failing update: the service (DesiredCount = RelayMinTasks) is updated first, the target
    # refuses min > max, and both are rolled back
    before = len(events)
    cs = _otter_change_set(cfn, otter_template, "bad", "UPDATE", RelayMinTasks=8, RelayMaxTasks=6)
    stack = _stack(cfn, "otter")
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert cfn.describe_change_set(ChangeSetName=cs)["ExecutionStatus"] == "EXECUTE_FAILED"
    events = _events(cfn, stack_id)
    assert _brief(events[before:]) == [
        ("otter", "UPDATE_IN_PROGRESS"),
        ("RelayService", "UPDATE_IN_PROGRESS"), ("RelayService", "UPDATE_COMPLETE"),
        ("RelayScalableTarget", "UPDATE_IN_PROGRESS"), ("RelayScalableTarget", "UPDATE_FAILED"),
        ("otter", "UPDATE_ROLLBACK_IN_PROGRESS"),
        ("RelayService", "UPDATE_IN_PROGRESS"), ("RelayService", "UPDATE_COMPLETE"),
        ("RelayScalableTarget", "UPDATE_IN_PROGRESS"), ("RelayScalableTarget", "UPDATE_COMPLETE"),
        ("otter", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"),
        ("otter", "UPDATE_ROLLBACK_COMPLETE"),
    ]
    assert events[before + 4]["ResourceStatusReason"] == CAPACITY_MESSAGE
    assert events[before + 5]["ResourceStatusReason"] == \
        "The following resource(s) failed to update: [RelayScalableTarget]. "
    assert capacity() == (1, 6, 1)
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]} == outputs
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert (params["RelayMinTasks"], params["RelayMaxTasks"]) == ("1", "6")
    tables = [e["PhysicalResourceId"] for e in created if e["ResourceType"] == "AWS::DynamoDB::Table"]
    ddb = client(server, "dynamodb")
    assert sorted(ddb.list_tables()["TableNames"]) == sorted(tables)

    # delete: every resource, newest first
    before = len(events)
    cfn.delete_stack(StackName="otter")
    assert _stack(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    events = _events(cfn, stack_id)[before:]
    assert _brief(events[:1] + events[-1:]) == [("otter", "DELETE_IN_PROGRESS"), ("otter", "DELETE_COMPLETE")]
    deleting, created = _without_retained(events[1:-1], created, otter_template[1]["Resources"])
    _check_pairs(deleting, "DELETE_IN_PROGRESS", ("DELETE_COMPLETE",))
    assert sorted(e["LogicalResourceId"] for e in deleting[::2]) == sorted(e["LogicalResourceId"] for e in created)
    assert ddb.list_tables()["TableNames"] == []
    assert aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []
    ec2 = client(server, "ec2")
    assert [v for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]] == []
    assert [t for t in ec2.describe_route_tables()["RouteTables"]
            if not any(a.get("Main") for a in t.get("Associations", []))] == []
