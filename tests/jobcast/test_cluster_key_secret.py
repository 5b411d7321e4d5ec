"""Every process that makes or checks API keys has the cluster's key secret, or refuses to start."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from jobcast import cluster_key_secret
from jobcast.embedded_redis import free_port
from jobcast.rediskeys import KEY_SECRET_FINGERPRINT_KEY
from jobcast.settings import Settings
from tests.jobcast.test_launcher import jobcast, user_env

REFUSAL = "JOBCAST_KEY_SECRET is not the secret this cluster's API keys are made with"


def test_the_first_secret_becomes_the_clusters_without_being_stored(
    redis_client: redis.Redis,
) -> None:
    cluster_key_secret.check(redis_client, "the-cluster-secret")
    stored = redis_client.get(KEY_SECRET_FINGERPRINT_KEY)
    assert stored == cluster_key_secret.fingerprint("the-cluster-secret")
    assert "the-cluster-secret" not in str(stored)
    cluster_key_secret.check(redis_client, "the-cluster-secret")  # the same one again: agreed


def test_another_secret_is_refused_naming_the_setting_and_the_key_to_delete(
    redis_client: redis.Redis,
) -> None:
    cluster_key_secret.check(redis_client, "the-cluster-secret")
    with pytest.raises(cluster_key_secret.KeySecretMismatchError) as refused:
        cluster_key_secret.check(redis_client, "THE_CLUSTERS")
    message = str(refused.value)
    assert message.startswith(REFUSAL)
    assert f"delete the Redis key {KEY_SECRET_FINGERPRINT_KEY}" in message
    assert "THE_CLUSTERS" not in message
    redis_client.delete(KEY_SECRET_FINGERPRINT_KEY)  # the secret changed on purpose
    cluster_key_secret.check(redis_client, "THE_CLUSTERS")


def env_for(settings: Settings, key_secret: str) -> dict[str, str]:
    assert settings.redis_url is not None
    return {
        **user_env(),
        "JOBCAST_REDIS_URL": settings.redis_url,
        "JOBCAST_KEY_SECRET": key_secret,
    }


def test_keys_create_with_another_secret_is_refused_and_makes_no_key(
    settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    # The key it printed was answered 401 by every api: it was hashed with another secret.
    cluster_key_secret.check(redis_client, settings.secret("key_secret"))
    env = env_for(settings, "THE_CLUSTERS")
    refused = jobcast("keys", "create", "--name", "alice", cwd=tmp_path, env=env)
    assert refused.returncode == 2, refused.stderr
    assert REFUSAL in " ".join(refused.stderr.split())
    assert "Traceback" not in refused.stderr + refused.stdout
    assert refused.stdout == ""  # no key printed
    env = env_for(settings, settings.secret("key_secret"))
    made = jobcast("keys", "create", "--name", "alice", cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    assert made.stdout.splitlines()[-1].startswith("jc_")


def test_keys_create_on_a_redis_without_a_fingerprint_writes_its_secrets(
    settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    env = env_for(settings, settings.secret("key_secret"))
    made = jobcast("keys", "create", "--name", "alice", cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    fingerprint = cluster_key_secret.fingerprint(settings.secret("key_secret"))
    assert redis_client.get(KEY_SECRET_FINGERPRINT_KEY) == fingerprint


def test_up_with_another_secret_than_its_redis_clusters_is_refused_in_one_line(
    settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    cluster_key_secret.check(redis_client, settings.secret("key_secret"))
    ports = ("--api-port", str(free_port()), "--flower-port", str(free_port()))
    refused = jobcast("up", *ports, cwd=tmp_path, env=env_for(settings, "THE_CLUSTERS"))
    assert refused.returncode == 1, refused.stderr
    assert f"jobcast error: {REFUSAL}" in " ".join(refused.stderr.split())
    assert "Traceback" not in refused.stderr + refused.stdout
    assert "Jobcast is up" not in refused.stdout
