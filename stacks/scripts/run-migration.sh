#!/usr/bin/env bash
# Runs the SelfMX migration task (the migrate task definition) once on ECS Fargate and waits for
# it, so that a release moves on only after its migrations are applied.
#
#   exit 0  the migrate container exited 0
#   exit 1  the migration lint refused the release (nothing started), or it exited non-zero, or the task stopped without it finishing (capacity, image pull,
#           secrets...), or ECS refused to start it, or it did not stop within TIMEOUT_SECONDS,
#           or describe-tasks failed DESCRIBE_ATTEMPTS times in a row
#
# It polls describe-tasks itself: `aws ecs wait tasks-stopped` gives up after 10 minutes and
# succeeds for a task whose container failed. A describe-tasks call that fails (throttling, a
# network blip) is retried: the task keeps running whether or not we can see it. The container's
# CloudWatch log is streamed as it runs.
#
# The selfmx-aws stack runs it on every release (terraform_data local-exec). By hand, from the
# repository root, take the stack's `migrate_command` output:
#   $(terraform -chdir=cdktf.out/stacks/selfmx-aws output -raw migrate_command)
# Needs the AWS CLI v2 and node (for the lint): answers are read with the CLI's --query and
# --output text, never evaluated.
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
# Consecutive failed describe-tasks calls before giving up (the task may still be running).
DESCRIBE_ATTEMPTS="${DESCRIBE_ATTEMPTS:-10}"

say() { echo "migration: $*" >&2; }

# CONTAINER_NAME goes into a --query: ECS names are letters, digits, hyphens and underscores.
if [[ ! "$CONTAINER_NAME" =~ ^[A-Za-z0-9_-]{1,255}$ ]]; then
  say "CONTAINER_NAME must be an ECS container name (letters, digits, - and _), got: ${CONTAINER_NAME}"
  exit 1
fi

# `--output text` prints a JSON null as None.
orEmpty() { [ "$1" = None ] && echo "" || echo "$1"; }

# The release gate: the migrations this release ships are linted before any task starts (migrate
# lints the pending ones again under its lock, before any DDL). Needs `npm run build`'s app/dist,
# which the stack makes current at synth.
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
say "checking the migrations: selfmx migrate --check"
if ! "${NODE_BIN:-node}" "${repo}/app/dist/selfmx.js" migrate --check >&2; then
  say "FAILED: the migration lint refused this release before any task started; fix the migration or annotate it with a reason (docs/development.md)"
  exit 1
fi

network="awsvpcConfiguration={subnets=[${SUBNETS}],securityGroups=[${SECURITY_GROUPS}],assignPublicIp=DISABLED}"
say "starting ${TASK_DEFINITION} on cluster ${CLUSTER}"
started=$(aws ecs run-task --region "$AWS_REGION" --cluster "$CLUSTER" \
  --task-definition "$TASK_DEFINITION" --launch-type FARGATE --count 1 \
  --started-by selfmx-migration --network-configuration "$network" \
  --query '[tasks[0].taskArn, failures[0].reason, failures[0].detail, failures[0].arn]' \
  --output text)
IFS=$'\t' read -r task_arn reason detail failed_arn <<<"$started"
task_arn=$(orEmpty "$task_arn")
reason=$(orEmpty "$reason")
detail=$(orEmpty "$detail")
failed_arn=$(orEmpty "$failed_arn")
if [ -n "$reason" ] || [ -z "$task_arn" ]; then
  refused="${reason:-no task in the run-task answer}${detail:+ (${detail})}${failed_arn:+ [${failed_arn}]}"
  say "FAILED: ECS did not start the task: ${refused}"
  exit 1
fi
task_id="${task_arn##*/}"
stream="${CONTAINER_NAME}/${CONTAINER_NAME}/${task_id}"
say "task ${task_id} started; log stream ${LOG_GROUP} ${stream}"

log_token=""
# Prints the log events written since the last call (none until the container has started).
stream_logs() {
  local args=(logs get-log-events --region "$AWS_REGION" --log-group-name "$LOG_GROUP"
    --log-stream-name "$stream" --start-from-head
    --query '[nextForwardToken, events[].[message]]' --output text)
  [ -n "$log_token" ] && args+=(--next-token "$log_token")
  local page
  page=$(aws "${args[@]}" 2>/dev/null) || return 0
  # The first line is the next token, then one line per event.
  local next
  next=$(head -n 1 <<<"$page")
  tail -n +2 <<<"$page" | while IFS= read -r line; do
    [ -n "$line" ] && echo "  | ${line}" >&2
  done
  [ "$next" = "$log_token" ] && return 1
  log_token="$next"
}

container="containers[?name=='${CONTAINER_NAME}'] | [0]"
# Free text last: a reason may hold anything but a tab.
described_fields="tasks[0].[lastStatus, stopCode, ${container}.exitCode, ${container}.reason, stoppedReason]"
deadline=$((SECONDS + TIMEOUT_SECONDS))
status=""
describe_failures=0
while :; do
  if described=$(aws ecs describe-tasks --region "$AWS_REGION" --cluster "$CLUSTER" \
    --tasks "$task_arn" --query "$described_fields" --output text); then
    describe_failures=0
    IFS=$'\t' read -r now stop_code exit_code container_reason stopped_reason <<<"$described"
    [ "$now" = None ] && now=UNKNOWN
    [ "$now" != "$status" ] && say "task ${task_id}: ${now}"
    status="$now"
  else
    describe_failures=$((describe_failures + 1))
    say "describe-tasks failed (${describe_failures} of ${DESCRIBE_ATTEMPTS} in a row); task ${task_id} keeps running, asking again"
    if ((describe_failures >= DESCRIBE_ATTEMPTS)); then
      say "FAILED: cannot see task ${task_id} after ${DESCRIBE_ATTEMPTS} attempts; it may still be running (aws ecs describe-tasks --cluster ${CLUSTER} --tasks ${task_arn})"
      exit 1
    fi
  fi
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

exit_code=$(orEmpty "$exit_code")
container_reason=$(orEmpty "$container_reason")
stop_code=$(orEmpty "$stop_code")
stopped_reason=$(orEmpty "$stopped_reason")

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
