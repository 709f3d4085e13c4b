"""CloudFormation models moto lacks, for the Otter stack, creating real
resources in moto's own backends (import this before moto's server or
CloudFormation handles its first request).

moto's CloudFormation silently skips resource types it has no model for (a
`Ref` to one disappears, a `Fn::GetAtt` fails the stack). These subclasses of
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


def fix_bodyless_signature_check():
    """moto bug (5.x): when it re-computes a SigV4 signature for a request
    without a body (GET/HEAD/DELETE on rest-json/rest-xml services such as
    apigatewayv2 GetApis or cloudfront GetDistribution) it hashes the request
    *headers* as the payload, so every correctly signed GET is refused with
    SignatureDoesNotMatch once INITIAL_NO_AUTH_ACTION_COUNT is used up. AWS
    hashes the empty payload; so does this fix. Wrong signatures are still refused."""
    from moto.iam import access_control

    original = access_control.IAMRequestBase._create_aws_request
    if getattr(original, "otter_fixed", False):
        return

    def _create_aws_request(self):
        request = original(self)
        if not self._body and self._method in ("GET", "HEAD", "DELETE"):
            request.data = b""
        return request

    _create_aws_request.otter_fixed = True
    access_control.IAMRequestBase._create_aws_request = _create_aws_request


def fix_network_load_balancer_type():
    """moto's CloudFormation model for AWS::ElasticLoadBalancingV2::LoadBalancer
    drops the `Type` property, so every balancer it creates is an ALB and a
    network listener (TCP_UDP, as the relay's NLB uses) is refused with
    "Listener protocol 'TCP_UDP' must be one of 'HTTP, HTTPS'". Pass the type
    (and IpAddressType) through, as AWS does."""
    from moto.elbv2 import models

    original = models.FakeLoadBalancer.create_from_cloudformation_json
    if getattr(original, "otter_fixed", False):
        return

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        backend = models.elbv2_backends[account_id][region_name]
        return backend.create_load_balancer(
            resource_name, properties.get("SecurityGroups"), properties.get("Subnets"),
            scheme=properties.get("Scheme", "internet-facing"),
            loadbalancer_type=properties.get("Type", "application"),
            ip_address_type=properties.get("IpAddressType", "ipv4"),
        )

    create_from_cloudformation_json.__func__.otter_fixed = True
    models.FakeLoadBalancer.create_from_cloudformation_json = create_from_cloudformation_json


def fix_change_set_outputs():
    """moto applies a change set to the stack's resources but keeps the
    stack's old output map (and parameters), so a stack created or updated
    through a change set has no Outputs. AWS recomputes them; so does this."""
    from moto.cloudformation import models

    original = models.ChangeSet.apply
    if getattr(original, "otter_fixed", False):
        return

    def apply(self):
        original(self)
        stack = self.stack
        stack.parameters = self.parameters
        stack.template = self.template
        stack._parse_template()
        stack.output_map = stack._create_output_map()

    apply.otter_fixed = True
    models.ChangeSet.apply = apply


# ------------------------------------------------------------------ stack events and failures as AWS

_STACKS = None  # stack id -> moto Stack (weak), filled by fix_stack_events


def _stack_for(resource_map):
    return _STACKS.get(resource_map.stack_id) if _STACKS is not None else None


def _reason(exc):
    """The message AWS would show for an exception raised by a moto backend."""
    exc = getattr(exc, "original", exc)
    for attr in ("message", "description"):
        value = getattr(exc, attr, None)
        if isinstance(value, str) and value:
            return value
    return str(exc) or type(exc).__name__


def _resource_event(stack, logical_id, resource_type, status, physical_id="", reason=None, properties=None):
    from moto.cloudformation.models import Event
    event = Event(stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=logical_id,
                  physical_resource_id=str(physical_id or ""), resource_type=resource_type,
                  resource_status=status, resource_status_reason=reason, resource_properties=properties)
    event.sendToSns(stack.account_id, stack.region_name, stack.notification_arns)
    stack.events.append(event)


def _stack_event(stack, status, reason=None):
    stack.status = status
    if reason is not None or not status.endswith("ROLLBACK_COMPLETE"):
        stack.status_reason = reason  # AWS keeps the rollback's reason on a rolled-back stack
    stack._add_stack_event(status, resource_status_reason=reason)


def _physical_id(resource):
    try:
        return getattr(resource, "physical_resource_id", "") or ""
    except Exception:
        return ""


def _properties_json(resource_json):
    try:
        return json.dumps(resource_json.get("Properties") or {}, default=str, sort_keys=True)
    except Exception:
        return None


def _record_failure(stack, exc, logical_id, resource_type, verb, status):
    """First failure of an operation: a <status> event for the resource; an exception
    coming up from a dependency's failure (already recorded) is not the resource's own."""
    if stack is None or getattr(exc, "_otter_reported", False):
        return
    try:
        exc._otter_reported = True
    except Exception:
        pass
    stack._otter_failed.append((logical_id, verb))
    _resource_event(stack, logical_id, resource_type, status, reason=_reason(exc))


def _failure_reason(stack, exc, suffix=""):
    """AWS's stack reason: "The following resource(s) failed to create: [A, B]. " (per verb)."""
    failed = getattr(stack, "_otter_failed", [])
    if not failed:
        return _reason(exc)
    parts = []
    for verb in ("create", "update", "delete"):
        names = [n for n, v in failed if v == verb]
        if names:
            parts.append(f"The following resource(s) failed to {verb}: [{', '.join(names)}]. ")
    return "".join(parts) + suffix


def _created_resources(resource_map, json_map):
    """Logical ids of the resources moto holds for the stack, in creation order."""
    return [k for k, v in resource_map._parsed_resources.items() if k in json_map and v is not None]


def _delete_resources(resource_map, stack, names, json_map):
    """Deletes `names` (already in reverse creation order) with DELETE_* events; a resource
    whose deletion raises is retried after the others (moto's way round dependency
    violations). Returns {logical id: exception} of those that could not be deleted."""
    pending = list(names)
    errors = {}
    progress = True
    while pending and progress:
        progress = False
        for name in list(pending):
            resource = resource_map._parsed_resources.get(name)
            resource_json = json_map.get(name) or {}
            rtype = resource_json.get("Type", getattr(resource, "cf_resource_type", ""))
            if resource_json.get("DeletionPolicy") == "Retain":
                if stack is not None:
                    _resource_event(stack, name, rtype, "DELETE_SKIPPED", _physical_id(resource))
                pending.remove(name)
                resource_map._parsed_resources.pop(name, None)
                progress = True
                continue
            physical = _physical_id(resource)
            try:
                resource_map._delete_resource(resource, resource_json)
            except Exception as e:
                errors[name] = e
                continue
            errors.pop(name, None)
            pending.remove(name)
            resource_map._parsed_resources.pop(name, None)
            progress = True
            if stack is not None:
                _resource_event(stack, name, rtype, "DELETE_IN_PROGRESS", physical)
                _resource_event(stack, name, rtype, "DELETE_COMPLETE", physical)
    for name in pending:
        if stack is not None:
            resource_json = json_map.get(name) or {}
            physical = _physical_id(resource_map._parsed_resources.get(name))
            _resource_event(stack, name, resource_json.get("Type", ""), "DELETE_IN_PROGRESS", physical)
            _resource_event(stack, name, resource_json.get("Type", ""), "DELETE_FAILED", physical,
                            reason=_reason(errors[name]))
    return {name: errors[name] for name in pending}


def _references(value, names):
    """Resource names `value` refers to: Ref, Fn::GetAtt, ${X} / ${X.Attr} in Fn::Sub."""
    import re
    found = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt":
                found.add(item[0] if isinstance(item, list) else str(item).split(".")[0])
            elif key == "Fn::Sub":
                text = item[0] if isinstance(item, list) else item
                if isinstance(text, str):
                    found.update(m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text))
            found |= _references(item, names)
    elif isinstance(value, list):
        for item in value:
            found |= _references(item, names)
    return found & names


def _dependency_order(json_map):
    """Resource names, each after everything it depends on (DependsOn and references),
    otherwise in template order: the order AWS works through an update."""
    names = set(json_map)
    order, seen = [], set()

    def visit(name):
        if name in seen:
            return
        seen.add(name)
        depends = json_map[name].get("DependsOn") or []
        depends = [depends] if isinstance(depends, str) else depends
        for dep in list(depends) + sorted(_references(json_map[name], names) - {name}):
            if dep in names:
                visit(dep)
        order.append(name)

    for name in json_map:
        visit(name)
    return order


class _UpdateFailed(Exception):
    """Raised by the patched ResourceMap.update; `rollback()` undoes what it did."""

    def __init__(self, original, rollback):
        super().__init__(_reason(original))
        self.original = original
        self.rollback = rollback


UNMODELLED = "moto-server has no CloudFormation model for {type}: add one to Tests/support/moto_cfn_models.py"


def _require_model(parsing, resource_type):
    """Raises for a type moto would skip. WaitCondition(Handle) are skipped by
    moto on purpose (they have no resource to create) and stay allowed."""
    if parsing.resource_class_from_type(resource_type) is None and resource_type not in parsing.NULL_MODELS:
        raise ValueError(UNMODELLED.format(type=resource_type))


def _rollback_create(stack, exc):
    """After a failed creation: ROLLBACK_IN_PROGRESS, the created resources deleted
    (newest first), the failed ones' DELETE_COMPLETE, then ROLLBACK_COMPLETE (or
    ROLLBACK_FAILED if moto could not delete one). The stack keeps no resources and
    no outputs, as on AWS."""
    from moto.cloudformation.parsing import OutputMap
    rm = stack.resource_map
    json_map = dict(rm._resource_json_map)
    _stack_event(stack, "ROLLBACK_IN_PROGRESS", _failure_reason(stack, exc, "Rollback requested by user."))
    created = _created_resources(rm, json_map)
    left = _delete_resources(rm, stack, list(reversed(created)), json_map)
    for name, verb in stack._otter_failed:
        if verb == "create" and name not in created:
            _resource_event(stack, name, (json_map.get(name) or {}).get("Type", ""), "DELETE_COMPLETE")
    # nothing left to create lazily (moto's resource map creates any resource it is asked for)
    rm._resource_json_map = {name: json_map[name] for name in left}
    stack.output_map = OutputMap(rm, {}, stack.stack_id)
    if left:
        _stack_event(stack, "ROLLBACK_FAILED",
                     f"The following resource(s) failed to delete: [{', '.join(left)}]. ")
    else:
        _stack_event(stack, "ROLLBACK_COMPLETE")


def fix_stack_events():
    """moto's CloudFormation records only stack-level events, and when a resource
    fails to create (or update, or delete) the API call itself fails (HTTP 400/500),
    leaving half-made resources and a stack stuck in *_IN_PROGRESS or gone. AWS
    answers CreateStack / UpdateStack / ExecuteChangeSet / DeleteStack with success
    and reports progress and failure through the stack's events. This makes moto
    do the same, synchronously (the call returns when the stack is in its final state):

    - every resource created, updated or deleted gets `<X>_IN_PROGRESS` then
      `<X>_COMPLETE` events (LogicalResourceId, PhysicalResourceId — empty on the
      first CREATE_IN_PROGRESS, as AWS — ResourceType; ResourceProperties on
      CREATE_IN_PROGRESS), dependencies first, between the stack's own events;
    - updates run as AWS orders them: additions and modifications in dependency
      order, then stack UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, then removals, then
      UPDATE_COMPLETE (moto removed first);
    - creation failure: `CREATE_FAILED` (reason: the exception's message), stack
      `ROLLBACK_IN_PROGRESS` ("The following resource(s) failed to create: [X].
      Rollback requested by user."), the created resources deleted newest first
      (DELETE_*), the failed one `DELETE_COMPLETE`, stack `ROLLBACK_COMPLETE`;
      the change set's ExecutionStatus is EXECUTE_FAILED;
    - update failure: `UPDATE_FAILED` (or CREATE_FAILED for an added resource),
      stack `UPDATE_ROLLBACK_IN_PROGRESS` ("The following resource(s) failed to
      update: [X]. "), the modified resources (and the failed one) updated back to
      the old template and parameters, `UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS`,
      the added resources deleted, `UPDATE_ROLLBACK_COMPLETE`; removed resources were
      not touched yet, old template, parameters and outputs kept. Gap: moto replaces
      many resources on update (delete + create, new physical id); rolling back
      replaces them again, so their physical ids may differ from before, and a model
      whose update deleted the old resource before failing cannot restore it
      (then UPDATE_FAILED in the rollback and UPDATE_ROLLBACK_FAILED);
    - deletion failure: `DELETE_FAILED` for the resource (reason), the others
      deleted, stack `DELETE_FAILED` ("The following resource(s) failed to delete:
      [X]. "); the stack stays listed and DeleteStack can be retried. Resources with
      DeletionPolicy Retain get DELETE_SKIPPED.

    StackStatusReason is set with the stack's status. Not done: OnFailure /
    DisableRollback (moto ignores them; a failure always rolls back), Custom::
    resources still complete before their Lambda answers.

    A resource type with no model (neither moto's nor one above) fails its
    resource with CREATE_FAILED naming the type, where moto would skip it and drop
    every Ref to it: a deploy test then fails instead of passing against a stack
    that is missing a resource."""
    import weakref
    from moto.cloudformation import models, parsing

    global _STACKS
    if _STACKS is not None:
        return
    _STACKS = weakref.WeakValueDictionary()

    # -- every stack findable from its resource map
    original_init = models.Stack.__init__

    def stack_init(self, *args, **kwargs):
        self._otter_failed = []
        self.status_reason = None
        _STACKS[kwargs.get("stack_id", args[0] if args else None)] = self
        original_init(self, *args, **kwargs)

    models.Stack.__init__ = stack_init

    # -- per-resource creation events (moto creates a resource lazily, dependencies
    #    first, when the resource map is first asked for it)
    def parse_and_create_resource(logical_id, resource_json, resources_map, account_id, region_name):
        condition = resource_json.get("Condition")
        if condition and not resources_map.lazy_condition_map[condition]:
            return None
        resource_type = resource_json["Type"]
        stack = _stack_for(resources_map)
        try:
            _require_model(parsing, resource_type)
            parsed = parsing.parse_resource_and_generate_name(logical_id, resource_json, resources_map)
            if not parsed:
                return None
            resource_class, resource_json, physical_name = parsed
            if stack is not None:
                _resource_event(stack, logical_id, resource_type, "CREATE_IN_PROGRESS",
                                properties=_properties_json(resource_json))
            resource = resource_class.create_from_cloudformation_json(
                physical_name, resource_json, account_id, region_name,
                LogicalId=logical_id, StackId=resources_map.stack_id, ResourceType=resource_type)
            resource.cf_resource_type = resource_type
            resource.logical_resource_id = logical_id
            if isinstance(resource, models.Stack) and resource.status != "CREATE_COMPLETE":
                raise ValueError(f"Embedded stack {resource.stack_id} was not successfully created: "
                                 f"{resource.status_reason or resource.status}")
        except Exception as e:
            _record_failure(stack, e, logical_id, resource_type, "create", "CREATE_FAILED")
            raise
        if stack is not None:
            _resource_event(stack, logical_id, resource_type, "CREATE_COMPLETE", _physical_id(resource))
        return resource

    parsing.parse_and_create_resource = parse_and_create_resource

    def update_resource(rm, stack, name, resource_json):
        """One resource to `resource_json` with UPDATE_* events; raises on failure."""
        resource_type = resource_json["Type"]
        old = rm._parsed_resources.get(name)
        if old is None:
            rm._parsed_resources.pop(name, None)
            rm[name]  # never created (condition, unsupported): create it now
            return
        try:
            parsed = parsing.parse_resource_and_generate_name(name, resource_json, rm)
            if not parsed:
                return
            resource_class, resource_json, new_name = parsed
            if stack is not None:
                _resource_event(stack, name, resource_type, "UPDATE_IN_PROGRESS", _physical_id(old),
                                properties=_properties_json(resource_json))
            if hasattr(resource_class.update_from_cloudformation_json, "__isabstractmethod__"):
                new = old  # moto cannot update this type: keep the resource (moto dropped it)
            else:
                new = resource_class.update_from_cloudformation_json(
                    original_resource=old, new_resource_name=new_name, cloudformation_json=resource_json,
                    account_id=rm._account_id, region_name=rm._region_name)
                new.cf_resource_type = resource_type
                new.logical_resource_id = name
        except Exception as e:
            _record_failure(stack, e, name, resource_type, "update", "UPDATE_FAILED")
            raise
        rm._parsed_resources[name] = new
        if stack is not None:
            _resource_event(stack, name, resource_type, "UPDATE_COMPLETE", _physical_id(new))

    def load_template(rm, template, input_parameters):
        for key in rm.resolved_parameters:
            rm._parsed_resources.pop(key, None)
        rm._template = template
        rm.input_parameters = input_parameters
        rm.resolved_parameters = {}
        rm.load_mapping()
        rm.load_parameters()
        rm.load_conditions()
        rm._resource_json_map = template.get("Resources") or {}

    # -- updates (UpdateStack, and every ExecuteChangeSet: a CREATE change set adds
    #    everything to the empty stack)
    def resource_map_update(self, template, parameters=None):
        stack = _stack_for(self)
        diff = self.build_resource_diff(template, parameters)
        adds, modifies, removes = diff["Add"], diff["Modify"], diff["Remove"]
        old_template, old_input = self._template, self.input_parameters
        old_json, new_json = dict(self._resource_json_map), template["Resources"]
        old_parsed = dict(self._parsed_resources)
        done = []

        def rollback():
            """Back to the old template; returns the resources that could not be restored."""
            added = [k for k in _created_resources(self, new_json) if k in adds and k not in old_parsed]
            load_template(self, old_template, old_input)
            failed = []
            for name in done + [n for n, v in stack._otter_failed if v == "update" and n not in done]:
                try:
                    update_resource(self, stack, name, old_json[name])
                except Exception:
                    failed.append(name)
            if stack is not None:
                _stack_event(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
            left = _delete_resources(self, stack, list(reversed(added)), new_json)
            for name, verb in stack._otter_failed:
                if verb == "create" and name not in added:
                    _resource_event(stack, name, (new_json.get(name) or {}).get("Type", ""), "DELETE_COMPLETE")
            self._resource_json_map = dict(old_json, **{n: new_json[n] for n in left})
            return failed

        try:
            load_template(self, template, parameters if parameters else old_input)
            for name in _dependency_order(new_json):
                if name in adds:
                    self[name]
                elif name in modifies:
                    update_resource(self, stack, name, new_json[name])
                    done.append(name)
        except Exception as e:
            raise _UpdateFailed(e, rollback)

        if stack is not None and stack.status == "UPDATE_IN_PROGRESS":
            _stack_event(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        removed = [k for k in reversed(_created_resources(self, old_json)) if k in removes]
        _delete_resources(self, stack, removed, old_json)  # AWS: a failed cleanup does not fail the update
        for name in removes:
            self._parsed_resources.pop(name, None)

    parsing.ResourceMap.update = resource_map_update

    # -- deletion
    def resource_map_delete(self):
        stack = _stack_for(self)
        json_map = dict(self._resource_json_map)
        left = _delete_resources(self, stack, list(reversed(_created_resources(self, json_map))), json_map)
        if left:
            raise next(iter(left.values()))

    parsing.ResourceMap.delete = resource_map_delete

    # -- stack operations
    def create_resources(self):
        self._otter_failed = []
        self.status = "CREATE_IN_PROGRESS"
        try:
            all_resources_ready = self.resource_map.create(self.template_dict)
        except Exception as e:
            _rollback_create(self, e)
            return
        self.description = self.template_dict.get("Description")
        if all_resources_ready:
            self.mark_creation_complete()

    models.Stack.create_resources = create_resources

    def run_update(stack, apply, on_success):
        stack._otter_failed = []
        _stack_event(stack, "UPDATE_IN_PROGRESS", "User Initiated")
        try:
            apply()
        except _UpdateFailed as f:
            _stack_event(stack, "UPDATE_ROLLBACK_IN_PROGRESS", _failure_reason(stack, f.original))
            failed = f.rollback()
            if failed:
                _stack_event(stack, "UPDATE_ROLLBACK_FAILED",
                             f"The following resource(s) failed to update: [{', '.join(failed)}]. ")
            else:
                _stack_event(stack, "UPDATE_ROLLBACK_COMPLETE")
            return False
        on_success()
        _stack_event(stack, "UPDATE_COMPLETE")
        return True

    def stack_update(self, template, role_arn=None, parameters=None, tags=None):
        def apply():
            self.resource_map.update(self.parse_template(template), parameters)

        def on_success():
            self.template = template
            self._parse_template()
            self.output_map = self._create_output_map()
            self.role_arn = role_arn
            if parameters:
                self.parameters = parameters
            if tags is not None:
                self.tags = tags

        run_update(self, apply, on_success)

    models.Stack.update = stack_update

    def stack_delete(self):
        self._otter_failed = []
        _stack_event(self, "DELETE_IN_PROGRESS", "User Initiated")
        json_map = dict(self.resource_map._resource_json_map)
        left = _delete_resources(self.resource_map, self, list(reversed(_created_resources(self.resource_map, json_map))),
                                 json_map)
        if left:
            _stack_event(self, "DELETE_FAILED", f"The following resource(s) failed to delete: [{', '.join(left)}]. ")
            return
        _stack_event(self, "DELETE_COMPLETE")

    models.Stack.delete = stack_delete

    def mark_creation_complete(self):
        _stack_event(self, "CREATE_COMPLETE")

    models.Stack.mark_creation_complete = mark_creation_complete

    def delete_stack(self, name_or_stack_id):
        if name_or_stack_id in self.stacks:
            stack = self.stacks[name_or_stack_id]
            export_names = [export.name for export in stack.exports]
            stack.delete()
            if stack.status == "DELETE_FAILED":
                return  # stays listed, as on AWS; DeleteStack may be retried
            self.stacks.pop(name_or_stack_id, None)
            self.deleted_stacks[stack.stack_id] = stack
            for export_name in export_names:
                self.exports.pop(export_name, None)
        else:
            for stack in list(self.stacks.values()):
                if stack.name == name_or_stack_id:
                    self.delete_stack(stack.stack_id)

    models.CloudFormationBackend.delete_stack = delete_stack

    def execute_change_set(self, change_set_name, stack_name=None):
        change_set = self.change_sets.get(change_set_name)
        if change_set is None:
            for cs in self.change_sets.values():
                if cs.change_set_name == change_set_name:
                    change_set = cs
        if change_set is None:
            from moto.cloudformation.exceptions import ValidationError
            raise ValidationError(stack_name)
        stack = self.stacks[change_set.stack_id]
        if change_set.change_set_type == "CREATE":
            stack._otter_failed = []
            _stack_event(stack, "CREATE_IN_PROGRESS", "User Initiated")
            try:
                change_set.apply()
            except Exception as e:
                change_set.execution_status = "EXECUTE_FAILED"
                stack.template = change_set.template
                stack.parameters = change_set.parameters
                stack._parse_template()
                _rollback_create(stack, e)
                return
            ok = True
            _stack_event(stack, "CREATE_COMPLETE")
        else:
            ok = run_update(stack, change_set.apply, lambda: None)
        change_set.execution_status = "EXECUTE_COMPLETE" if ok else "EXECUTE_FAILED"
        if ok:
            stack.template = change_set.template

    models.CloudFormationBackend.execute_change_set = execute_change_set


def fix_nonempty_bucket_delete():
    """moto's CloudFormation model for AWS::S3::Bucket "deletes" a bucket that still
    holds objects by doing nothing (its delete_bucket returns None for a non-empty
    bucket): the bucket is left behind and the stack reports DELETE_COMPLETE. AWS
    refuses: the resource gets DELETE_FAILED "The bucket you tried to delete is not
    empty" and the stack ends DELETE_FAILED (see fix_stack_events) until the bucket
    is emptied and DeleteStack retried. So does this (the Otter stack's SiteBucket
    has no DeletionPolicy: deleting the stack with the web app still in it fails)."""
    from moto.s3 import models
    from moto.s3.exceptions import BucketNotEmpty
    from moto.utilities.utils import get_partition

    original = models.FakeBucket.delete_from_cloudformation_json
    if getattr(original, "otter_fixed", False):
        return

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        bucket = models.s3_backends[account_id][get_partition(region_name)].buckets.get(resource_name)
        if bucket is not None and len(bucket.keys):
            raise BucketNotEmpty(resource_name)
        return original.__func__(cls, resource_name, cloudformation_json, account_id, region_name)

    delete_from_cloudformation_json.__func__.otter_fixed = True
    models.FakeBucket.delete_from_cloudformation_json = delete_from_cloudformation_json


def fix_network_deletes():
    """moto's CloudFormation models for AWS::EC2::RouteTable, Route,
    SubnetRouteTableAssociation, VPCGatewayAttachment and InternetGateway have no
    delete: DeleteStack (or a rollback) skips them silently, and the stack's
    AWS::EC2::VPC then refuses deletion ("has dependencies"), so a stack with the
    relay's network could never be deleted. AWS deletes them; so does this, through
    moto's EC2 backend (a dependency violation is retried after the other resources,
    see fix_stack_events). Types that still are not deleted: ECS Cluster / Service /
    TaskDefinition, ELBv2 Listener / TargetGroup, Lambda Permission (they do not
    block anything; their events still say DELETE_COMPLETE)."""
    from moto.ec2.models import ec2_backends, internet_gateways, route_tables, subnets, vpn_gateway

    def backend(account_id, region_name):
        return ec2_backends[account_id][region_name]

    def route_table_delete(self, account_id, region_name):
        backend(account_id, region_name).delete_route_table(self.id)

    def route_delete(self, account_id, region_name):
        backend(account_id, region_name).delete_route(self.route_table.id, self.destination_cidr_block,
                                                      self.destination_ipv6_cidr_block)

    def association_delete(self, account_id, region_name):
        table = backend(account_id, region_name).get_route_table(self.route_table_id)
        for association_id, subnet_id in list(table._associations.items()):
            if subnet_id == self.subnet_id:
                table._associations.pop(association_id)

    def attachment_delete(self, account_id, region_name):
        if str(self.gateway_id).startswith("igw-"):
            backend(account_id, region_name).detach_internet_gateway(self.gateway_id, self.vpc_id)
        else:
            backend(account_id, region_name).detach_vpn_gateway(self.gateway_id, self.vpc_id)

    def gateway_delete(self, account_id, region_name):
        backend(account_id, region_name).delete_internet_gateway(self.id)

    for cls, delete in ((route_tables.RouteTable, route_table_delete), (route_tables.Route, route_delete),
                        (subnets.SubnetRouteTableAssociation, association_delete),
                        (vpn_gateway.VPCGatewayAttachment, attachment_delete),
                        (internet_gateways.InternetGateway, gateway_delete)):
        if not hasattr(cls, "delete"):
            cls.delete = delete


# Role names AWS gives the service-linked roles of the principals the Otter
# stack's services use (each service documents its own):
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html
# https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-service-linked-roles.html
# https://docs.aws.amazon.com/autoscaling/application/userguide/services-that-can-integrate-ecs.html
SERVICE_LINKED_ROLE_NAMES = {
    "ecs.amazonaws.com": "AWSServiceRoleForECS",
    "elasticloadbalancing.amazonaws.com": "AWSServiceRoleForElasticLoadBalancing",
    "ecs.application-autoscaling.amazonaws.com": "AWSServiceRoleForApplicationAutoScaling_ECSService",
}


def fix_service_linked_roles():
    """moto's CreateServiceLinkedRole derives the role name from the principal
    (ecs.amazonaws.com -> "AWSServiceRoleForecs", ecs.application-autoscaling... ->
    "AWSServiceRoleForApplicationAutoScaling_Ecs") and refuses a second call with
    EntityAlreadyExists. AWS uses the names each service documents
    (SERVICE_LINKED_ROLE_NAMES) and refuses a second call with InvalidInput
    "Service role name X has been taken in this account, please try a different
    suffix." (the only error codes of the action are InvalidInput, LimitExceeded,
    NoSuchEntity and ServiceFailure:
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateServiceLinkedRole.html).
    So does this."""
    import json
    from moto.iam import models
    from moto.iam.exceptions import EntityAlreadyExists, InvalidInput

    original = models.IAMBackend.create_service_linked_role
    if getattr(original, "otter_fixed", False):
        return

    def taken(name):
        return InvalidInput(f"Service role name {name} has been taken in this account, please try a different suffix.")

    def create_service_linked_role(self, service_name, description, suffix):
        name = SERVICE_LINKED_ROLE_NAMES.get(service_name)
        if name is None:
            try:
                return original(self, service_name, description, suffix)
            except EntityAlreadyExists as e:
                raise taken(str(e.message).split("Role with name ")[-1].split(" already exists")[0]) from None
        if suffix:
            name += f"_{suffix}"
        if any(r.name == name for r in self.roles.values()):
            raise taken(name)
        policy = {"Version": "2012-10-17", "Statement": [
            {"Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"Service": [service_name]}}]}
        return self.create_role(name, json.dumps(policy), f"/aws-service-role/{service_name}/", permissions_boundary=None,
                                description=description, tags=[], max_session_duration="3600", linked_service=service_name)

    create_service_linked_role.otter_fixed = True
    models.IAMBackend.create_service_linked_role = create_service_linked_role
