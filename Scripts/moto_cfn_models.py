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
| AWS::ApplicationAutoScaling::ScalableTarget | `resourceId\|dimension\|namespace` (as AWS) | - | register_scalable_target |
| AWS::ApplicationAutoScaling::ScalingPolicy | policy ARN | Arn | put_scaling_policy |
| AWS::S3::BucketPolicy | generated id | - | s3 put_bucket_policy |

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
    """Shared behaviour; every model below also lists CloudFormationModel as a
    direct base, because moto finds models with CloudFormationModel.__subclasses__()."""

    @staticmethod
    def cloudformation_name_type():
        return ""

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in cls.ATTRS

    ATTRS: tuple = ()

    def is_created(self):
        return True

    def get_cfn_attribute(self, attr):
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
        if attr not in self.ATTRS:
            raise UnformattedGetAttTemplateException()
        return self.attrs[attr]

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
        pass


# ------------------------------------------------------------------ API Gateway v2

def _apigw(account_id, region_name):
    from moto.apigatewayv2.models import apigatewayv2_backends
    return apigatewayv2_backends[account_id][region_name]


class ApiV2(_Model, CloudFormationModel):
    __module__ = "moto.apigatewayv2.otter_models"
    ATTRS = ("ApiEndpoint", "ApiId")

    @staticmethod
    def cloudformation_type():
        return "AWS::ApiGatewayV2::Api"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = _props(cloudformation_json)
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
        m = cls()
        m.api = api
        endpoint = api.api_endpoint
        if p.get("ProtocolType") == "WEBSOCKET" and endpoint.startswith("https://"):
            endpoint = "wss://" + endpoint[len("https://"):]  # AWS gives wss:// for WebSocket APIs
        m.attrs = {"ApiEndpoint": endpoint, "ApiId": api.api_id}
        return m

    @property
    def physical_resource_id(self):
        return self.api.api_id

    def delete(self, account_id, region_name):
        try:
            _apigw(account_id, region_name).delete_api(self.api.api_id)
        except Exception:
            pass


def _camel(value):
    """CloudFormation's PascalCase keys -> the API's camelCase (CorsConfiguration etc.)."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


class RouteV2(_Model, CloudFormationModel):
    __module__ = "moto.apigatewayv2.otter_models"
    ATTRS = ("RouteId",)

    @staticmethod
    def cloudformation_type():
        return "AWS::ApiGatewayV2::Route"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = _props(cloudformation_json)
        req = p.get("RequestParameters")
        route = _apigw(account_id, region_name).create_route(
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
        m = cls()
        m.api_id, m.route = p["ApiId"], route
        m.attrs = {"RouteId": route.route_id}
        return m

    @property
    def physical_resource_id(self):
        return self.route.route_id

    def delete(self, account_id, region_name):
        try:
            _apigw(account_id, region_name).delete_route(self.api_id, self.route.route_id)
        except Exception:
            pass


class IntegrationV2(_Model, CloudFormationModel):
    __module__ = "moto.apigatewayv2.otter_models"
    ATTRS = ("IntegrationId",)

    @staticmethod
    def cloudformation_type():
        return "AWS::ApiGatewayV2::Integration"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = _props(cloudformation_json)
        integ = _apigw(account_id, region_name).create_integration(
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
        m = cls()
        m.api_id, m.integration = p["ApiId"], integ
        m.attrs = {"IntegrationId": integ.id}
        return m

    @property
    def physical_resource_id(self):
        return self.integration.id

    def delete(self, account_id, region_name):
        try:
            _apigw(account_id, region_name).delete_integration(self.api_id, self.integration.id)
        except Exception:
            pass


class AuthorizerV2(_Model, CloudFormationModel):
    __module__ = "moto.apigatewayv2.otter_models"
    ATTRS = ("AuthorizerId",)

    @staticmethod
    def cloudformation_type():
        return "AWS::ApiGatewayV2::Authorizer"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = _props(cloudformation_json)
        auth = _apigw(account_id, region_name).create_authorizer(
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
        m = cls()
        m.api_id, m.authorizer = p["ApiId"], auth
        m.attrs = {"AuthorizerId": auth.id}
        return m

    @property
    def physical_resource_id(self):
        return self.authorizer.id

    def delete(self, account_id, region_name):
        try:
            _apigw(account_id, region_name).delete_authorizer(self.api_id, self.authorizer.id)
        except Exception:
            pass


class StageV2(_Model, CloudFormationModel):
    __module__ = "moto.apigatewayv2.otter_models"
    ATTRS = ()

    @staticmethod
    def cloudformation_type():
        return "AWS::ApiGatewayV2::Stage"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = _props(cloudformation_json)
        config = _camel({k: v for k, v in p.items() if k not in ("ApiId", "Tags", "StageVariables", "RouteSettings")})
        config["stageName"] = p["StageName"]
        if "StageVariables" in p:
            config["stageVariables"] = dict(p["StageVariables"])
        if "RouteSettings" in p:  # keys are route keys: keep them, camel-case the settings only
            config["routeSettings"] = {k: _camel(v) for k, v in p["RouteSettings"].items()}
        config["tags"] = _tags_dict(p.get("Tags"))
        stage = _apigw(account_id, region_name).create_stage(p["ApiId"], config)
        m = cls()
        m.api_id, m.stage = p["ApiId"], stage
        m.attrs = {}
        return m

    @property
    def physical_resource_id(self):
        return self.stage.name

    def delete(self, account_id, region_name):
        try:
            _apigw(account_id, region_name).delete_stage(self.api_id, self.stage.name)
        except Exception:
            pass


class DeploymentV2(_Model, CloudFormationModel):
    __module__ = "moto.apigatewayv2.otter_models"
    ATTRS = ("DeploymentId",)

    @staticmethod
    def cloudformation_type():
        return "AWS::ApiGatewayV2::Deployment"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = _props(cloudformation_json)
        api = _apigw(account_id, region_name).get_api(p["ApiId"])  # fails the stack if the API is missing
        dep_id = uuid.uuid4().hex[:6]
        deployments = api.__dict__.setdefault("otter_deployments", {})
        deployments[dep_id] = {"deploymentId": dep_id, "description": p.get("Description"),
                               "stageName": p.get("StageName"), "createdDate": time.time()}
        m = cls()
        m.api_id, m.dep_id = p["ApiId"], dep_id
        m.attrs = {"DeploymentId": dep_id}
        return m

    @property
    def physical_resource_id(self):
        return self.dep_id

    def delete(self, account_id, region_name):
        try:
            _apigw(account_id, region_name).get_api(self.api_id).otter_deployments.pop(self.dep_id, None)
        except Exception:
            pass


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
    ATTRS = ("DomainName", "Id")

    @staticmethod
    def cloudformation_type():
        return "AWS::CloudFront::Distribution"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = _props(cloudformation_json)
        config = _distribution_config(p["DistributionConfig"], f"{kwargs.get('StackId', '')}-{resource_name}-{uuid.uuid4().hex[:8]}")
        tags = [{"Key": t["Key"], "Value": t["Value"]} for t in p.get("Tags", [])]
        dist, _, _ = _cloudfront(account_id).create_distribution(config, tags)
        m = cls()
        m.dist = dist
        m.attrs = {"DomainName": dist.domain_name, "Id": dist.distribution_id}
        return m

    @property
    def physical_resource_id(self):
        return self.dist.distribution_id

    def delete(self, account_id, region_name):
        try:
            be = _cloudfront(account_id)
            be.distributions.pop(self.dist.distribution_id, None)
        except Exception:
            pass


class OriginAccessControl(_Model, CloudFormationModel):
    __module__ = "moto.cloudfront.otter_models"
    ATTRS = ("Id",)

    @staticmethod
    def cloudformation_type():
        return "AWS::CloudFront::OriginAccessControl"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = _props(cloudformation_json)
        oac = _cloudfront(account_id).create_origin_access_control(dict(p["OriginAccessControlConfig"]))
        m = cls()
        m.oac = oac
        m.attrs = {"Id": oac.id}
        return m

    @property
    def physical_resource_id(self):
        return self.oac.id

    def delete(self, account_id, region_name):
        try:
            _cloudfront(account_id).delete_origin_access_control(self.oac.id)
        except Exception:
            pass


class ResponseHeadersPolicy(_Model, CloudFormationModel):
    __module__ = "moto.cloudfront.otter_models"
    ATTRS = ("Id", "LastModifiedTime")

    @staticmethod
    def cloudformation_type():
        return "AWS::CloudFront::ResponseHeadersPolicy"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = _props(cloudformation_json)
        be = _cloudfront(account_id)
        policies = be.__dict__.setdefault("otter_response_headers_policies", {})
        config = p["ResponseHeadersPolicyConfig"]
        if any(x.get("Name") == config.get("Name") for x in policies.values()):
            raise ValueError(f"ResponseHeadersPolicy {config.get('Name')} already exists")
        pid = str(uuid.uuid4())
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        policies[pid] = {"Id": pid, "LastModifiedTime": stamp, "ResponseHeadersPolicyConfig": config}
        m = cls()
        m.pid = pid
        m.attrs = {"Id": pid, "LastModifiedTime": stamp}
        return m

    @property
    def physical_resource_id(self):
        return self.pid

    def delete(self, account_id, region_name):
        _cloudfront(account_id).__dict__.get("otter_response_headers_policies", {}).pop(self.pid, None)


# ------------------------------------------------------------------ Secrets Manager

def _secrets(account_id, region_name):
    from moto.secretsmanager.models import secretsmanager_backends
    return secretsmanager_backends[account_id][region_name]


class Secret(_Model, CloudFormationModel):
    __module__ = "moto.secretsmanager.otter_models"
    ATTRS = ("Id",)

    @staticmethod
    def cloudformation_name_type():
        return "Name"

    @staticmethod
    def cloudformation_type():
        return "AWS::SecretsManager::Secret"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = _props(cloudformation_json)
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
        m = cls()
        m.arn = arn
        m.attrs = {"Id": arn}
        return m

    @property
    def physical_resource_id(self):
        return self.arn

    def delete(self, account_id, region_name):
        try:
            _secrets(account_id, region_name).delete_secret(self.arn, None, True)
        except Exception:
            pass


# ------------------------------------------------------------------ Application Auto Scaling

def _aas(account_id, region_name):
    from moto.applicationautoscaling.models import applicationautoscaling_backends
    return applicationautoscaling_backends[account_id][region_name]


class ScalableTarget(_Model, CloudFormationModel):
    __module__ = "moto.applicationautoscaling.otter_models"
    ATTRS = ()

    @staticmethod
    def cloudformation_type():
        return "AWS::ApplicationAutoScaling::ScalableTarget"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = _props(cloudformation_json)
        suspended = p.get("SuspendedState")
        _aas(account_id, region_name).register_scalable_target(
            namespace=p["ServiceNamespace"], r_id=p["ResourceId"], dimension=p["ScalableDimension"],
            min_capacity=int(p["MinCapacity"]), max_capacity=int(p["MaxCapacity"]),
            role_arn=p.get("RoleARN"), suspended_state=suspended,
        )
        m = cls()
        m.key = (p["ServiceNamespace"], p["ResourceId"], p["ScalableDimension"])
        m.attrs = {}
        return m

    @property
    def physical_resource_id(self):
        ns, rid, dim = self.key
        return f"{rid}|{dim}|{ns}"

    def delete(self, account_id, region_name):
        try:
            _aas(account_id, region_name).deregister_scalable_target(*self.key)
        except Exception:
            pass


class ScalingPolicy(_Model, CloudFormationModel):
    __module__ = "moto.applicationautoscaling.otter_models"
    ATTRS = ("Arn",)

    @staticmethod
    def cloudformation_type():
        return "AWS::ApplicationAutoScaling::ScalingPolicy"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = _props(cloudformation_json)
        if p.get("ScalingTargetId"):
            rid, dim, ns = p["ScalingTargetId"].split("|")
        else:
            rid, dim, ns = p["ResourceId"], p["ScalableDimension"], p["ServiceNamespace"]
        body = p.get("TargetTrackingScalingPolicyConfiguration") or p.get("StepScalingPolicyConfiguration")
        policy = _aas(account_id, region_name).put_scaling_policy(
            policy_name=p["PolicyName"], service_namespace=ns, resource_id=rid, scalable_dimension=dim,
            policy_body=body, policy_type=p.get("PolicyType"),
        )
        m = cls()
        m.key = (p["PolicyName"], ns, rid, dim)
        m.arn = policy.policy_arn
        m.attrs = {"Arn": policy.policy_arn}
        return m

    @property
    def physical_resource_id(self):
        return self.arn

    def delete(self, account_id, region_name):
        try:
            _aas(account_id, region_name).delete_scaling_policy(*self.key)
        except Exception:
            pass


# ------------------------------------------------------------------ S3 bucket policy

class BucketPolicy(_Model, CloudFormationModel):
    __module__ = "moto.s3.otter_models"
    ATTRS = ()

    @staticmethod
    def cloudformation_type():
        return "AWS::S3::BucketPolicy"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        from moto.s3.models import s3_backends
        from moto.utilities.utils import get_partition
        p = _props(cloudformation_json)
        doc = p["PolicyDocument"]
        s3_backends[account_id][get_partition(region_name)].put_bucket_policy(
            p["Bucket"], (doc if isinstance(doc, str) else json.dumps(doc)).encode())
        m = cls()
        m.bucket = p["Bucket"]
        m.pid = f"{resource_name}-{uuid.uuid4().hex[:12]}"
        m.attrs = {}
        return m

    @property
    def physical_resource_id(self):
        return self.pid

    def delete(self, account_id, region_name):
        from moto.s3.models import s3_backends
        from moto.utilities.utils import get_partition
        try:
            s3_backends[account_id][get_partition(region_name)].delete_bucket_policy(self.bucket)
        except Exception:
            pass


MODELS = [ApiV2, RouteV2, IntegrationV2, AuthorizerV2, StageV2, DeploymentV2, Distribution, OriginAccessControl,
          ResponseHeadersPolicy, Secret, ScalableTarget, ScalingPolicy, BucketPolicy]


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
