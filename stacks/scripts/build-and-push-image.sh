#!/usr/bin/env bash
# Builds the SelfMX image from the repository and pushes it to ECR, unless the tag is already
# there (ECR tags are immutable: a tag is one build, forever).
# Run by the selfmx-aws stack (terraform_data local-exec) from cdktf.out/stacks/selfmx-aws, or
# by hand from anywhere:
#   npm run build
#   REPOSITORY_URL=<account>.dkr.ecr.<region>.amazonaws.com/selfmx-prod IMAGE_TAG=sha-0123 \
#   AWS_REGION=<region> BUILD_CONTEXT=. RELEASE_HASH="$(cat app/dist/release-hash)" \
#   stacks/scripts/build-and-push-image.sh
# RELEASE_HASH is the release the stack synthesized; app/Dockerfile copies app/dist as it is, so
# the build refuses artifacts built from other sources (app/dist/release-hash, written by the build).
set -euo pipefail

: "${REPOSITORY_URL:?REPOSITORY_URL is required (the ECR repository URL)}"
: "${IMAGE_TAG:?IMAGE_TAG is required}"
: "${AWS_REGION:?AWS_REGION is required}"
: "${RELEASE_HASH:?RELEASE_HASH is required (the release hash the stack synthesized)}"
context="${BUILD_CONTEXT:-.}"
registry="${REPOSITORY_URL%%/*}"
repository="${REPOSITORY_URL#*/}"
image="${REPOSITORY_URL}:${IMAGE_TAG}"

if aws ecr describe-images --region "$AWS_REGION" --repository-name "$repository" \
  --image-ids "imageTag=${IMAGE_TAG}" >/dev/null 2>&1; then
  echo "image ${image} is already in ECR; nothing to build"
  exit 0
fi

stamp="${context}/app/dist/release-hash"
built="$(cat "$stamp" 2>/dev/null || true)"
if [ "$built" != "$RELEASE_HASH" ]; then
  echo "build-and-push-image: ${stamp} is '${built:-missing}', not the release ${RELEASE_HASH}: app/dist was built from other sources. Run \`npm run build\` (or synth again), then deploy." >&2
  exit 1
fi

echo "building ${image} from ${context}"
docker build --pull --platform linux/amd64 -f "${context}/app/Dockerfile" -t "$image" "$context"
aws ecr get-login-password --region "$AWS_REGION" |
  docker login --username AWS --password-stdin "$registry"
docker push "$image"
