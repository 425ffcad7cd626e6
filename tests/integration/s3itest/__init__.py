# SPDX-License-Identifier: Apache-2.0
"""
s3itest: the shared harness of the integration tests.

A test script is one scenario: `def run(t, ws)` and
`sys.exit(s3itest.main(NAME, run, budget=SECONDS))`.  It starts moto_server,
the SigV4 verifier in front of it (tests/fixtures/sigv4_verifier.py) and
s3inval in front of that, all on free loopback ports, drives them with real
clients and prints TAP, the plan at the end:

    client (aws-cli, boto3) --client keys--> s3inval --upstream keys-->
        sigv4_verifier --> moto_server

The modules, one concern each (every public name is also here, as
s3itest.NAME):

    layout    where things are: source and build trees, the daemon, fixtures
    keys      the client and upstream keys, the environments they go in
    procs     processes and ports: spawn, wait, stop by PID, clean up
    tap       TAP output, the plan at the end; CI=true
    runner    a script's Workspace and main()
    rawhttp   HTTP by hand: a request, JSON, raw bytes, a signed one verbatim
    awscli    aws-cli v1 and v2: found and run
    sdk       boto3 S3 clients; requests signed by hand
    moto      moto_server: started, read directly, its distributions
    fakes     the fixtures as processes and their control APIs
    daemon    s3inval: config file, daemon, CLI, admin listener, TLS
    stack     moto + verifier + s3inval, as most scripts use them
    trees     local trees and their digests
    cfpaths   the CloudFront paths a key must invalidate, computed here

Environment: S3I_BIN (the daemon), TOP_SRCDIR, TOP_BUILDDIR (set by
make check; defaults are derived from this file), CI=true turns skips for
missing peer tools into failures, S3INVAL_KEEP_LOGS=1 keeps the logs of a
passing script.
"""

from .layout import (BAD_UPSTREAM, FAKE_AWS_METADATA, FAKE_CLOUDFRONT,
                     FIXTURES, HERE, S3INVAL_BIN, TOP_BUILDDIR, TOP_SRCDIR,
                     VERIFIER, data_path, fixture_module)
from .keys import (DEPLOY_AK, DEPLOY_SK, READER_AK, READER_SK, REGION,
                   UPSTREAM_AK, UPSTREAM_SK, clean_env, credential_free_env,
                   daemon_env)
from .procs import (Proc, StartError, free_port, pid_alive, read_text,
                    run_to_end, send_signal, spawn, stop, stop_all, tail,
                    wait_gone, wait_port)
from .tap import CI, TAP
from .runner import Workspace, main, missing_peers
from .rawhttp import (http_request, json_request, parse_s3_error,
                      raw_exchange, read_raw_response, send_signed)
from .awscli import aws_env, find_aws, run_aws
from .sdk import presign_url, s3_client, s3_client_tls, sign_request
from .moto import (bucket_digest, compare_bucket, moto_cf_config,
                   moto_client, moto_distribution, moto_invalidated_paths,
                   moto_object, repair_bucket, reset_moto, start_moto)
from .fakes import (BadUpstream, ControlAPI, FakeCloudFront, FakeMetadata,
                    Verifier, start_bad_upstream, start_fake_cloudfront,
                    start_fake_cloudfront_at, start_fake_metadata,
                    start_fixture, start_verifier, start_verifier_keys_from,
                    stats_delta, verifier_lines, verifier_peer_ports)
from .daemon import (Daemon, admin_flush, admin_status, default_config,
                     lock_pid, make_tls_cert, need_binary, read_config,
                     run_s3inval, run_s3inval_to_exit, start_s3inval,
                     start_s3inval_env, write_config)
from .stack import Stack, https_stack
from .trees import (MiB, SPECIAL_NAMES, edit_tree, file_sha256,
                    make_site_tree, remove_from_tree, tree_digest,
                    write_big_file, write_file)
from .cfpaths import cf_encode, key_paths, keys_paths
