#!/usr/bin/env bash
# Runs the SelfMX migration task (the migrate task definition) once on ECS Fargate and waits for
# it, so that a release moves on only after its migrations are applied.
#
#   exit 0  the migrate container exited 0
#   exit 1  it exited non-zero, or the task stopped without it finishing (capacity, image pull,
#           secrets...), or ECS refused to start it, or it did not stop within TIMEOUT_SECONDS
#
# It polls describe-tasks itself: `aws ecs wait tasks-stopped` gives up after 10 minutes and
# succeeds for a task whose container failed. The container's CloudWatch log is streamed as it runs.
#
# The selfmx-aws stack runs it on every release (terraform_data local-exec). By hand, from the
# repository root, take the stack's `migrate_command` output:
#   $(terraform -chdir=cdktf.out/stacks/selfmx-aws output -raw migrate_command)
# Needs the AWS CLI v2 and Node (to read the JSON answers).
set -euo pipefail

: "${AWS_REGION:?AWS_REGION is required}"
: "${CLUSTER:?CLUSTER is required (the ECS cluster name)}"
: "${TASK_DEFINITION:?TASK_DEFINITION is required (the migrate task definition family or ARN)}"
: "${SUBNETS:?SUBNETS is required (comma-separated private subnet ids)}"
: "${SECURITY_GROUPS:?SECURITY_GROUPS is required (comma-separated security group ids)}"
: "${LOG_GROUP:?LOG_GROUP is required (the CloudWatch log group)}"
CONTAINER_NAME="${CONTAINER_NAME:-migrate}"
TIMEOUT_SECONDS="${TIMEOUT_SECONDS:-1800}"
POLL_SECONDS="${POLL_SECONDS:-6}"

say() { echo "migration: $*" >&2; }

# Reads JSON on stdin and prints a JavaScript expression of it (`d`); empty for null/undefined.
json() {
  node -e '
    const d = JSON.parse(require("fs").readFileSync(0, "utf8") || "null");
    const value = new Function("d", `return (${process.argv[1]});`)(d);
    if (value !== undefined && value !== null) process.stdout.write(String(value));
  ' "$1"
}

network="awsvpcConfiguration={subnets=[${SUBNETS}],securityGroups=[${SECURITY_GROUPS}],assignPublicIp=DISABLED}"
say "starting ${TASK_DEFINITION} on cluster ${CLUSTER}"
started=$(aws ecs run-task --region "$AWS_REGION" --cluster "$CLUSTER" \
  --task-definition "$TASK_DEFINITION" --launch-type FARGATE --count 1 \
  --started-by selfmx-migration --network-configuration "$network" --output json)
refused=$(json 'd.failures && d.failures.length ? d.failures.map((f) => `${f.reason}${f.detail ? ` (${f.detail})` : ""}${f.arn ? ` [${f.arn}]` : ""}`).join("; ") : ""' <<<"$started")
task_arn=$(json 'd.tasks && d.tasks[0] && d.tasks[0].taskArn' <<<"$started")
if [ -n "$refused" ] || [ -z "$task_arn" ]; then
  say "FAILED: ECS did not start the task: ${refused:-no task in the run-task answer}"
  exit 1
fi
task_id="${task_arn##*/}"
stream="${CONTAINER_NAME}/${CONTAINER_NAME}/${task_id}"
say "task ${task_id} started; log stream ${LOG_GROUP} ${stream}"

log_token=""
# Prints the log events written since the last call (none until the container has started).
stream_logs() {
  local args=(logs get-log-events --region "$AWS_REGION" --log-group-name "$LOG_GROUP"
    --log-stream-name "$stream" --start-from-head --output json)
  [ -n "$log_token" ] && args+=(--next-token "$log_token")
  local page
  page=$(aws "${args[@]}" 2>/dev/null) || return 0
  local lines
  lines=$(json 'd.events.map((e) => `  | ${e.message.replace(/\n$/, "")}`).join("\n")' <<<"$page")
  [ -n "$lines" ] && echo "$lines" >&2
  local next
  next=$(json 'd.nextForwardToken' <<<"$page")
  [ "$next" = "$log_token" ] && return 1
  log_token="$next"
}

deadline=$((SECONDS + TIMEOUT_SECONDS))
status=""
while :; do
  described=$(aws ecs describe-tasks --region "$AWS_REGION" --cluster "$CLUSTER" \
    --tasks "$task_arn" --output json)
  now=$(json 'd.tasks && d.tasks[0] ? d.tasks[0].lastStatus : "UNKNOWN"' <<<"$described")
  [ "$now" != "$status" ] && say "task ${task_id}: ${now}"
  status="$now"
  stream_logs || true
  [ "$status" = STOPPED ] && break
  if ((SECONDS >= deadline)); then
    say "FAILED: task ${task_id} did not stop within ${TIMEOUT_SECONDS}s; it is still running (aws ecs stop-task --cluster ${CLUSTER} --task ${task_arn} stops it)"
    exit 1
  fi
  sleep "$POLL_SECONDS"
done
# The last lines may arrive in CloudWatch after the task stopped.
for _ in 1 2 3 4 5; do stream_logs || break; done

container="d.tasks[0].containers.find((c) => c.name === \"${CONTAINER_NAME}\")"
exit_code=$(json "${container} && ${container}.exitCode" <<<"$described")
container_reason=$(json "${container} && ${container}.reason" <<<"$described")
stop_code=$(json 'd.tasks[0].stopCode' <<<"$described")
stopped_reason=$(json 'd.tasks[0].stoppedReason' <<<"$described")

if [ "$exit_code" = 0 ]; then
  say "succeeded: container ${CONTAINER_NAME} exited 0 (task ${task_id})"
  exit 0
fi
if [ -n "$exit_code" ]; then
  say "FAILED: container ${CONTAINER_NAME} exited with code ${exit_code} (task ${task_id}: ${stopped_reason:-no reason given}); the release stops here and the running version keeps serving"
else
  say "FAILED: task ${task_id} stopped before container ${CONTAINER_NAME} finished: ${stop_code:-unknown stop code}: ${stopped_reason:-no reason given}${container_reason:+ (container: ${container_reason})}; the release stops here and the running version keeps serving"
fi
exit 1
