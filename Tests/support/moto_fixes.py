"""Fixes for moto bugs the Otter tests run into, each patching moto in the
process that runs the server (Scripts/moto-server); each says what AWS does."""

import json

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
