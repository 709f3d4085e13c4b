"""CloudFormation models moto lacks, for the Otter stack, creating real
resources in moto's own backends (import this before moto's server or
CloudFormation handles its first request).

moto's CloudFormation silently skips resource types it has no model for (a
`Ref` to one disappears, a `Fn::GetAtt` fails the stack); Scripts/moto-server
fails such a resource instead, naming the type (moto_stack_events.py). These subclasses of
moto's CloudFormationModel fill in, each calling the backend a real API call
would reach, so the resources show up in get_apis / list_distributions /
describe_secret / describe_scalable_targets / get_bucket_policy, and Ref /
GetAtt return the values AWS documents:

| type | Ref | GetAtt | backend |
|---|---|---|---|
| AWS::ApiGatewayV2::Api | ApiId | ApiEndpoint (wss:// for WEBSOCKET, as AWS), ApiId | apigatewayv2 create_api |
| AWS::ApiGatewayV2::Route | RouteId | RouteId | create_route |
| AWS::ApiGatewayV2::Integration | IntegrationId | IntegrationId | create_integration |
| AWS::ApiGatewayV2::Authorizer | AuthorizerId | AuthorizerId | create_authorizer |
| AWS::ApiGatewayV2::Stage | StageName | - | create_stage |
| AWS::ApiGatewayV2::Deployment | DeploymentId | DeploymentId | (moto has no deployments: kept on the Api object, attribute `otter_deployments`) |
| AWS::CloudFront::Distribution | Id | DomainName, Id | cloudfront create_distribution |
| AWS::CloudFront::OriginAccessControl | Id | Id | create_origin_access_control |
| AWS::CloudFront::ResponseHeadersPolicy | Id | Id, LastModifiedTime | (moto has none: kept on the cloudfront backend, attribute `otter_response_headers_policies`) |
| AWS::SecretsManager::Secret | ARN | Id (= ARN) | secretsmanager create_secret (GenerateSecretString via get_random_password) |
| AWS::ApplicationAutoScaling::ScalableTarget | `resourceId\|dimension\|namespace` (as AWS) | - | register_scalable_target (refuses MinCapacity > MaxCapacity, as AWS) |
| AWS::ApplicationAutoScaling::ScalingPolicy | policy ARN | Arn | put_scaling_policy |
| AWS::S3::BucketPolicy | generated id | - | s3 put_bucket_policy |
| AWS::ApiGateway::Account | generated id | - | apigateway update_account (cloudwatchRoleArn); deleting leaves the setting, as AWS |

The metaclass moto uses takes the service name from the class's module path,
hence ``__module__ = "moto.<service>.otter_models"`` in every class body.
"""

import json
import time
import uuid

from moto.core.common_models import CloudFormationModel


def _props(cloudformation_json):
    return cloudformation_json.get("Properties") or {}


def _tags_dict(tags):
    if isinstance(tags, dict):
        return dict(tags)
    return {t["Key"]: t["Value"] for t in tags or []}


class _Model:
    """The skeleton every model shares. A model names its CloudFormation TYPE and
    the GetAtt attributes it answers (ATTRS), and implements `create` (makes the
    resource in moto's backend; returns its physical id and attribute values) and
    `remove`. Every model also lists CloudFormationModel as a direct base, because
    moto finds models with CloudFormationModel.__subclasses__()."""

    TYPE = ""
    ATTRS: tuple = ()
    NAME_PROPERTY = ""  # the property that names the resource, if CloudFormation generates a name otherwise

    @classmethod
    def cloudformation_type(cls):
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls):
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in cls.ATTRS

    def is_created(self):
        return True

    def get_cfn_attribute(self, attr):
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
        if attr not in self.ATTRS:
            raise UnformattedGetAttTemplateException()
        return self.attrs[attr]

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        m = cls()
        m.physical_id, m.attrs = m.create(_props(cloudformation_json), resource_name, account_id, region_name, **kwargs)
        return m

    def create(self, p, resource_name, account_id, region_name, **kwargs):
        raise NotImplementedError

    @property
    def physical_resource_id(self):
        return self.physical_id

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,
                                        account_id, region_name):
        # replacement: delete the old, create the new
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        # moto calls this with the physical resource id as resource_name
        for inst in list(cls.instances_tracked):
            if getattr(inst, "physical_resource_id", None) == resource_name:
                inst.delete(account_id, region_name)
                cls.instances_tracked.remove(inst)
                return

    def delete(self, account_id, region_name):
        try:
            self.remove(account_id, region_name)
        except Exception:
            pass  # already gone from the backend: deleted, as far as the stack is concerned

    def remove(self, account_id, region_name):
        pass


# ------------------------------------------------------------------ API Gateway v2

def _apigw(account_id, region_name):
    from moto.apigatewayv2.models import apigatewayv2_backends
    return apigatewayv2_backends[account_id][region_name]


def _camel(value):
    """CloudFormation's PascalCase keys -> the API's camelCase (CorsConfiguration etc.)."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


class ApiV2(_Model, CloudFormationModel):
    __module__ = "moto.apigatewayv2.otter_models"
    TYPE = "AWS::ApiGatewayV2::Api"
    ATTRS = ("ApiEndpoint", "ApiId")

    def create(self, p, resource_name, account_id, region_name, **kwargs):
        api = _apigw(account_id, region_name).create_api(
            api_key_selection_expression=p.get("ApiKeySelectionExpression"),
            cors_configuration=_camel(p.get("CorsConfiguration")),
            description=p.get("Description"),
            disable_schema_validation=p.get("DisableSchemaValidation"),
            disable_execute_api_endpoint=p.get("DisableExecuteApiEndpoint"),
            name=p.get("Name", resource_name),
            protocol_type=p.get("ProtocolType"),
            route_selection_expression=p.get("RouteSelectionExpression"),
            tags=_tags_dict(p.get("Tags")),
            version=p.get("Version"),
        )
        endpoint = api.api_endpoint
        if p.get("ProtocolType") == "WEBSOCKET" and endpoint.startswith("https://"):
            endpoint = "wss://" + endpoint[len("https://"):]  # AWS gives wss:// for WebSocket APIs
        return api.api_id, {"ApiEndpoint": endpoint, "ApiId": api.api_id}

    def remove(self, account_id, region_name):
        _apigw(account_id, region_name).delete_api(self.physical_id)


class _ApiChild(_Model):
    """A resource that belongs to an API (ApiId): route, integration, authorizer, stage, deployment."""

    def create(self, p, resource_name, account_id, region_name, **kwargs):
        self.api_id = p["ApiId"]
        return self.create_in(_apigw(account_id, region_name), p, resource_name)

    def remove(self, account_id, region_name):
        self.remove_from(_apigw(account_id, region_name))


class RouteV2(_ApiChild, CloudFormationModel):
    __module__ = "moto.apigatewayv2.otter_models"
    TYPE = "AWS::ApiGatewayV2::Route"
    ATTRS = ("RouteId",)

    def create_in(self, backend, p, resource_name):
        req = p.get("RequestParameters")
        route = backend.create_route(
            api_id=p["ApiId"],
            api_key_required=bool(p.get("ApiKeyRequired", False)),
            authorization_scopes=p.get("AuthorizationScopes"),
            authorization_type=p.get("AuthorizationType", "NONE"),
            authorizer_id=p.get("AuthorizerId"),
            model_selection_expression=p.get("ModelSelectionExpression"),
            operation_name=p.get("OperationName"),
            request_models=p.get("RequestModels"),
            request_parameters=_camel(req) if req else None,
            route_key=p["RouteKey"],
            route_response_selection_expression=p.get("RouteResponseSelectionExpression"),
            target=p.get("Target"),
        )
        return route.route_id, {"RouteId": route.route_id}

    def remove_from(self, backend):
        backend.delete_route(self.api_id, self.physical_id)


class IntegrationV2(_ApiChild, CloudFormationModel):
    __module__ = "moto.apigatewayv2.otter_models"
    TYPE = "AWS::ApiGatewayV2::Integration"
    ATTRS = ("IntegrationId",)

    def create_in(self, backend, p, resource_name):
        integ = backend.create_integration(
            api_id=p["ApiId"],
            connection_id=p.get("ConnectionId"),
            connection_type=p.get("ConnectionType"),
            content_handling_strategy=p.get("ContentHandlingStrategy"),
            credentials_arn=p.get("CredentialsArn"),
            description=p.get("Description"),
            integration_method=p.get("IntegrationMethod"),
            integration_subtype=p.get("IntegrationSubtype"),
            integration_type=p.get("IntegrationType"),
            integration_uri=p.get("IntegrationUri"),
            passthrough_behavior=p.get("PassthroughBehavior"),
            payload_format_version=p.get("PayloadFormatVersion"),
            request_parameters=p.get("RequestParameters"),
            request_templates=p.get("RequestTemplates"),
            response_parameters=p.get("ResponseParameters"),
            template_selection_expression=p.get("TemplateSelectionExpression"),
            timeout_in_millis=p.get("TimeoutInMillis"),
            tls_config=_camel(p.get("TlsConfig")),
        )
        return integ.id, {"IntegrationId": integ.id}

    def remove_from(self, backend):
        backend.delete_integration(self.api_id, self.physical_id)


class AuthorizerV2(_ApiChild, CloudFormationModel):
    __module__ = "moto.apigatewayv2.otter_models"
    TYPE = "AWS::ApiGatewayV2::Authorizer"
    ATTRS = ("AuthorizerId",)

    def create_in(self, backend, p, resource_name):
        auth = backend.create_authorizer(
            api_id=p["ApiId"],
            auth_creds_arn=p.get("AuthorizerCredentialsArn"),
            auth_payload_format_version=p.get("AuthorizerPayloadFormatVersion"),
            auth_result_ttl=p.get("AuthorizerResultTtlInSeconds"),
            authorizer_uri=p.get("AuthorizerUri"),
            authorizer_type=p.get("AuthorizerType"),
            enable_simple_response=p.get("EnableSimpleResponses"),
            identity_source=p.get("IdentitySource"),
            identity_validation_expr=p.get("IdentityValidationExpression"),
            jwt_config=_camel(p.get("JwtConfiguration")),
            name=p.get("Name", resource_name),
        )
        return auth.id, {"AuthorizerId": auth.id}

    def remove_from(self, backend):
        backend.delete_authorizer(self.api_id, self.physical_id)


class StageV2(_ApiChild, CloudFormationModel):
    __module__ = "moto.apigatewayv2.otter_models"
    TYPE = "AWS::ApiGatewayV2::Stage"

    def create_in(self, backend, p, resource_name):
        config = _camel({k: v for k, v in p.items() if k not in ("ApiId", "Tags", "StageVariables", "RouteSettings")})
        config["stageName"] = p["StageName"]
        if "StageVariables" in p:
            config["stageVariables"] = dict(p["StageVariables"])
        if "RouteSettings" in p:  # keys are route keys: keep them, camel-case the settings only
            config["routeSettings"] = {k: _camel(v) for k, v in p["RouteSettings"].items()}
        config["tags"] = _tags_dict(p.get("Tags"))
        return backend.create_stage(p["ApiId"], config).name, {}

    def remove_from(self, backend):
        backend.delete_stage(self.api_id, self.physical_id)


class DeploymentV2(_ApiChild, CloudFormationModel):
    __module__ = "moto.apigatewayv2.otter_models"
    TYPE = "AWS::ApiGatewayV2::Deployment"
    ATTRS = ("DeploymentId",)

    def create_in(self, backend, p, resource_name):
        api = backend.get_api(p["ApiId"])  # fails the stack if the API is missing
        dep_id = uuid.uuid4().hex[:6]
        deployments = api.__dict__.setdefault("otter_deployments", {})
        deployments[dep_id] = {"deploymentId": dep_id, "description": p.get("Description"),
                               "stageName": p.get("StageName"), "createdDate": time.time()}
        return dep_id, {"DeploymentId": dep_id}

    def remove_from(self, backend):
        backend.get_api(self.api_id).otter_deployments.pop(self.physical_id, None)


# ------------------------------------------------------------------ CloudFront

def _cloudfront(account_id):
    from moto.cloudfront.models import cloudfront_backends
    return cloudfront_backends[account_id]["global"]


def _cf_list(items):
    items = list(items or [])
    return {"Quantity": len(items), "Items": items}


def _distribution_config(p, caller_reference):
    """CloudFormation's DistributionConfig (lists) -> the API's (Quantity/Items)."""
    c = json.loads(json.dumps(p))
    out = {"CallerReference": caller_reference, "Comment": c.get("Comment", ""), "Enabled": c.get("Enabled", True)}
    origins = []
    for o in c.get("Origins", []):
        o = dict(o)
        if "S3OriginConfig" in o:
            o["S3OriginConfig"] = {"OriginAccessIdentity": o["S3OriginConfig"].get("OriginAccessIdentity", "")}
        if "OriginCustomHeaders" in o:
            o["CustomHeaders"] = _cf_list(o.pop("OriginCustomHeaders"))
        if "CustomOriginConfig" in o and "OriginSSLProtocols" in o["CustomOriginConfig"]:
            o["CustomOriginConfig"]["OriginSslProtocols"] = _cf_list(o["CustomOriginConfig"].pop("OriginSSLProtocols"))
        origins.append(o)
    out["Origins"] = _cf_list(origins)

    def behavior(b):
        b = dict(b)
        methods = b.pop("AllowedMethods", None)
        cached = b.pop("CachedMethods", None)
        if methods:
            b["AllowedMethods"] = {"Items": methods, "CachedMethods": {"Items": cached or ["GET", "HEAD"]}}
        return b

    out["DefaultCacheBehavior"] = behavior(c.get("DefaultCacheBehavior", {}))
    if c.get("CacheBehaviors"):
        out["CacheBehaviors"] = _cf_list([behavior(b) for b in c["CacheBehaviors"]])
    if c.get("Aliases"):
        out["Aliases"] = {"Items": c["Aliases"]}
    if c.get("CustomErrorResponses"):
        out["CustomErrorResponses"] = _cf_list(c["CustomErrorResponses"])
    for key in ("DefaultRootObject", "HttpVersion", "PriceClass", "IPV6Enabled", "WebACLId", "ViewerCertificate",
                "Logging"):
        if key in c:
            out["IsIPV6Enabled" if key == "IPV6Enabled" else key] = c[key]
    geo = (c.get("Restrictions") or {}).get("GeoRestriction")
    if geo:
        out["Restrictions"] = {"GeoRestriction": {"RestrictionType": geo.get("RestrictionType", "none"),
                                                  "Items": geo.get("Locations", [])}}
    if "ViewerCertificate" in out:
        vc = out["ViewerCertificate"]
        if "AcmCertificateArn" in vc:
            vc["ACMCertificateArn"] = vc.pop("AcmCertificateArn")
        if "IamCertificateId" in vc:
            vc["IAMCertificateId"] = vc.pop("IamCertificateId")
    return out


class Distribution(_Model, CloudFormationModel):
    __module__ = "moto.cloudfront.otter_models"
    TYPE = "AWS::CloudFront::Distribution"
    ATTRS = ("DomainName", "Id")

    def create(self, p, resource_name, account_id, region_name, **kwargs):
        config = _distribution_config(p["DistributionConfig"], f"{kwargs.get('StackId', '')}-{resource_name}-{uuid.uuid4().hex[:8]}")
        tags = [{"Key": t["Key"], "Value": t["Value"]} for t in p.get("Tags", [])]
        dist, _, _ = _cloudfront(account_id).create_distribution(config, tags)
        return dist.distribution_id, {"DomainName": dist.domain_name, "Id": dist.distribution_id}

    def remove(self, account_id, region_name):
        _cloudfront(account_id).distributions.pop(self.physical_id, None)


class OriginAccessControl(_Model, CloudFormationModel):
    __module__ = "moto.cloudfront.otter_models"
    TYPE = "AWS::CloudFront::OriginAccessControl"
    ATTRS = ("Id",)

    def create(self, p, resource_name, account_id, region_name, **kwargs):
        config = dict(p["OriginAccessControlConfig"])
        # CloudFront names are unique per account (moto does not check): a
        # leftover OAC with the same name fails the resource, as on AWS.
        backend = _cloudfront(account_id)
        if any(getattr(o, "name", None) == config.get("Name") for o in backend.origin_access_controls.values()):
            raise ValueError("OriginAccessControlAlreadyExists: An origin access control with the same name already exists.")
        oac = backend.create_origin_access_control(config)
        return oac.id, {"Id": oac.id}

    def remove(self, account_id, region_name):
        _cloudfront(account_id).delete_origin_access_control(self.physical_id)


class ResponseHeadersPolicy(_Model, CloudFormationModel):
    __module__ = "moto.cloudfront.otter_models"
    TYPE = "AWS::CloudFront::ResponseHeadersPolicy"
    ATTRS = ("Id", "LastModifiedTime")

    def create(self, p, resource_name, account_id, region_name, **kwargs):
        policies = _cloudfront(account_id).__dict__.setdefault("otter_response_headers_policies", {})
        config = p["ResponseHeadersPolicyConfig"]
        if any(x.get("Name") == config.get("Name") for x in policies.values()):
            raise ValueError(f"ResponseHeadersPolicy {config.get('Name')} already exists")
        pid = str(uuid.uuid4())
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        policies[pid] = {"Id": pid, "LastModifiedTime": stamp, "ResponseHeadersPolicyConfig": config}
        return pid, {"Id": pid, "LastModifiedTime": stamp}

    def remove(self, account_id, region_name):
        _cloudfront(account_id).__dict__.get("otter_response_headers_policies", {}).pop(self.physical_id, None)


# ------------------------------------------------------------------ API Gateway account settings

class GatewayAccount(_Model, CloudFormationModel):
    """The region's API Gateway logging role (a WebSocket stage with access logs needs it).
    Deleting it leaves the account setting, as AWS does."""
    __module__ = "moto.apigateway.otter_models"
    TYPE = "AWS::ApiGateway::Account"

    def create(self, p, resource_name, account_id, region_name, **kwargs):
        from moto.apigateway.models import apigateway_backends
        apigateway_backends[account_id][region_name].update_account(
            [{"op": "replace", "path": "/cloudwatchRoleArn", "value": p["CloudWatchRoleArn"]}])
        return f"{resource_name}-{uuid.uuid4().hex[:12]}", {}


# ------------------------------------------------------------------ Secrets Manager

def _secrets(account_id, region_name):
    from moto.secretsmanager.models import secretsmanager_backends
    return secretsmanager_backends[account_id][region_name]


class Secret(_Model, CloudFormationModel):
    __module__ = "moto.secretsmanager.otter_models"
    TYPE = "AWS::SecretsManager::Secret"
    ATTRS = ("Id",)
    NAME_PROPERTY = "Name"

    def create(self, p, resource_name, account_id, region_name, **kwargs):
        be = _secrets(account_id, region_name)
        value = p.get("SecretString")
        gen = p.get("GenerateSecretString")
        if gen is not None:
            password = be.get_random_password(
                password_length=int(gen.get("PasswordLength", 32)),
                exclude_characters=gen.get("ExcludeCharacters", ""),
                exclude_numbers=bool(gen.get("ExcludeNumbers", False)),
                exclude_punctuation=bool(gen.get("ExcludePunctuation", False)),
                exclude_uppercase=bool(gen.get("ExcludeUppercase", False)),
                exclude_lowercase=bool(gen.get("ExcludeLowercase", False)),
                include_space=bool(gen.get("IncludeSpace", False)),
                require_each_included_type=bool(gen.get("RequireEachIncludedType", True)),
            )
            password = json.loads(password)["RandomPassword"] if password.startswith("{") else password
            if gen.get("SecretStringTemplate") is not None and gen.get("GenerateStringKey"):
                doc = json.loads(gen["SecretStringTemplate"])
                doc[gen["GenerateStringKey"]] = password
                value = json.dumps(doc)
            else:
                value = password
        tags = [{"Key": t["Key"], "Value": t["Value"]} for t in p.get("Tags", [])]
        name = p.get("Name") or resource_name
        be.create_secret(name=name, secret_string=value, secret_binary=None, description=p.get("Description"),
                         tags=tags, kms_key_id=p.get("KmsKeyId"), client_request_token=None,
                         replica_regions=[], force_overwrite=False)
        arn = be.describe_secret(name).arn
        return arn, {"Id": arn}

    def remove(self, account_id, region_name):
        _secrets(account_id, region_name).delete_secret(self.physical_id, None, True)


# ------------------------------------------------------------------ Application Auto Scaling

def _aas(account_id, region_name):
    from moto.applicationautoscaling.models import applicationautoscaling_backends
    return applicationautoscaling_backends[account_id][region_name]


class ScalableTarget(_Model, CloudFormationModel):
    __module__ = "moto.applicationautoscaling.otter_models"
    TYPE = "AWS::ApplicationAutoScaling::ScalableTarget"

    # Application Auto Scaling's answer to RegisterScalableTarget with MinCapacity > MaxCapacity (a
    # ValidationException); moto's backend accepts any pair. Refusing it gives the deploy tests a
    # realistic resource failure: RelayMinTasks above RelayMaxTasks fails this resource, not the call.
    CAPACITY_MESSAGE = "Minimum capacity cannot be greater than maximum capacity"

    @classmethod
    def _validate(cls, p):
        from moto.applicationautoscaling.exceptions import AWSValidationException
        lo, hi = p.get("MinCapacity"), p.get("MaxCapacity")
        if lo is not None and hi is not None and int(lo) > int(hi):
            raise AWSValidationException(cls.CAPACITY_MESSAGE)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,
                                        account_id, region_name):
        # validate before touching the old target (a refused update leaves it as it was, as on AWS);
        # same target key: update in place (deregistering would drop its scaling policies)
        p = _props(cloudformation_json)
        cls._validate(p)
        if original_resource.key != (p["ServiceNamespace"], p["ResourceId"], p["ScalableDimension"]):
            original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    def create(self, p, resource_name, account_id, region_name, **kwargs):
        self._validate(p)
        _aas(account_id, region_name).register_scalable_target(
            namespace=p["ServiceNamespace"], r_id=p["ResourceId"], dimension=p["ScalableDimension"],
            min_capacity=int(p["MinCapacity"]), max_capacity=int(p["MaxCapacity"]),
            role_arn=p.get("RoleARN"), suspended_state=p.get("SuspendedState"),
        )
        self.key = ns, rid, dim = (p["ServiceNamespace"], p["ResourceId"], p["ScalableDimension"])
        return f"{rid}|{dim}|{ns}", {}  # as AWS

    def remove(self, account_id, region_name):
        _aas(account_id, region_name).deregister_scalable_target(*self.key)


class ScalingPolicy(_Model, CloudFormationModel):
    __module__ = "moto.applicationautoscaling.otter_models"
    TYPE = "AWS::ApplicationAutoScaling::ScalingPolicy"
    ATTRS = ("Arn",)

    def create(self, p, resource_name, account_id, region_name, **kwargs):
        if p.get("ScalingTargetId"):
            rid, dim, ns = p["ScalingTargetId"].split("|")
        else:
            rid, dim, ns = p["ResourceId"], p["ScalableDimension"], p["ServiceNamespace"]
        body = p.get("TargetTrackingScalingPolicyConfiguration") or p.get("StepScalingPolicyConfiguration")
        policy = _aas(account_id, region_name).put_scaling_policy(
            policy_name=p["PolicyName"], service_namespace=ns, resource_id=rid, scalable_dimension=dim,
            policy_body=body, policy_type=p.get("PolicyType"),
        )
        self.key = (p["PolicyName"], ns, rid, dim)
        return policy.policy_arn, {"Arn": policy.policy_arn}

    def remove(self, account_id, region_name):
        _aas(account_id, region_name).delete_scaling_policy(*self.key)


# ------------------------------------------------------------------ S3 bucket policy

def _s3(account_id, region_name):
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition
    return s3_backends[account_id][get_partition(region_name)]


class BucketPolicy(_Model, CloudFormationModel):
    __module__ = "moto.s3.otter_models"
    TYPE = "AWS::S3::BucketPolicy"

    def create(self, p, resource_name, account_id, region_name, **kwargs):
        doc = p["PolicyDocument"]
        _s3(account_id, region_name).put_bucket_policy(
            p["Bucket"], (doc if isinstance(doc, str) else json.dumps(doc)).encode())
        self.bucket = p["Bucket"]
        return f"{resource_name}-{uuid.uuid4().hex[:12]}", {}

    def remove(self, account_id, region_name):
        _s3(account_id, region_name).delete_bucket_policy(self.bucket)


MODELS = [ApiV2, RouteV2, IntegrationV2, AuthorizerV2, StageV2, DeploymentV2, Distribution, OriginAccessControl,
          ResponseHeadersPolicy, GatewayAccount, Secret, ScalableTarget, ScalingPolicy, BucketPolicy]



def register():
    """Makes sure moto's CloudFormation sees these models (its model map is
    cached on first use, so call this before the first request)."""
    from moto.cloudformation import parsing
    for cache in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cache.cache_clear()
    types = set(parsing.get_model_map())
    missing = [m.cloudformation_type() for m in MODELS if m.cloudformation_type() not in types]
    assert not missing, missing
    return sorted(m.cloudformation_type() for m in MODELS)
