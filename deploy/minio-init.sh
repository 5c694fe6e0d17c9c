#!/bin/sh
# One-shot MinIO bootstrap for docker-compose (runs in the minio/mc image).
#  1. creates the bucket (private: no anonymous access; every download goes through the API or a
#     pre-signed URL the API issued and audited),
#  2. creates the app's own access key with a policy limited to that bucket, so the services never
#     hold the MinIO root credentials (those stay with this init job and the operator).
# Safe to run again. Uses mc and shell builtins only (the mc image is ubi-micro: no grep, sed, curl).
set -eu

: "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}" "${S3_BUCKET:?}" "${S3_ACCESS_KEY_ID:?}" "${S3_SECRET_ACCESS_KEY:?}"
MINIO_URL=${MINIO_URL:-http://minio:9000}
POLICY=ledgerline-bucket-rw # must differ from the access key: the check below matches text

mc alias set ledgerline "$MINIO_URL" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null

mc mb --ignore-existing "ledgerline/$S3_BUCKET"
mc anonymous set none "ledgerline/$S3_BUCKET"

# Objects: read/write/delete and multipart uploads (lib-storage streams large files in parts).
# Bucket: list and locate only; no bucket creation or policy changes.
policy_file=/tmp/$POLICY-policy.json
printf '%s\n' '{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
      "Resource": ["arn:aws:s3:::'"$S3_BUCKET"'"]
    },
    {
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      "Resource": ["arn:aws:s3:::'"$S3_BUCKET"'/*"]
    }
  ]
}' >"$policy_file"
mc admin policy create ledgerline "$POLICY" "$policy_file"

mc admin user add ledgerline "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY"
info=$(mc admin user info ledgerline "$S3_ACCESS_KEY_ID")
case "$info" in
  *"PolicyName: "*"$POLICY"*) echo "minio-init: policy $POLICY already attached to $S3_ACCESS_KEY_ID" ;;
  *) mc admin policy attach ledgerline "$POLICY" --user "$S3_ACCESS_KEY_ID" ;;
esac

echo "minio-init: done: bucket $S3_BUCKET (private), app user $S3_ACCESS_KEY_ID with policy $POLICY"
