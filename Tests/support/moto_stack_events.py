"""moto's CloudFormation made to report stacks as AWS does: per-resource events,
resource failures that roll the stack back instead of failing the API call, and
an unmodelled resource type failing its resource (see fix_stack_events).
Installed by Scripts/moto-server."""

import json
import weakref

from moto.cloudformation import models, parsing

_original_stack_init = None  # moto's Stack.__init__, wrapped by stack_init

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
    global _STACKS, _original_stack_init
    if _STACKS is not None:
        return
    _STACKS = weakref.WeakValueDictionary()
    _original_stack_init = models.Stack.__init__
    models.Stack.__init__ = stack_init
    parsing.parse_and_create_resource = parse_and_create_resource
    parsing.ResourceMap.update = resource_map_update
    parsing.ResourceMap.delete = resource_map_delete
    models.Stack.create_resources = create_resources
    models.Stack.update = stack_update
    models.Stack.delete = stack_delete
    models.Stack.mark_creation_complete = mark_creation_complete
    models.CloudFormationBackend.delete_stack = delete_stack
    models.CloudFormationBackend.execute_change_set = execute_change_set


# -- every stack findable from its resource map


def stack_init(self, *args, **kwargs):
    self._otter_failed = []
    self.status_reason = None
    _STACKS[kwargs.get("stack_id", args[0] if args else None)] = self
    _original_stack_init(self, *args, **kwargs)



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



# -- deletion
def resource_map_delete(self):
    stack = _stack_for(self)
    json_map = dict(self._resource_json_map)
    left = _delete_resources(self, stack, list(reversed(_created_resources(self, json_map))), json_map)
    if left:
        raise next(iter(left.values()))



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



def mark_creation_complete(self):
    _stack_event(self, "CREATE_COMPLETE")



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
