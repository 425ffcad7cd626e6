/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg_check: the checks of the configuration as a whole, once the file
 * and the environment are in: keys that go together (tls_cert and
 * tls_key), keys that must not (admin_token and admin_token_file),
 * bounds between keys (quiet_period and max_delay), clients, their keys
 * and the buckets they are granted.  One value's own syntax is
 * cfg_value.c's.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cfg.h"
#include "cfg_loader.h"
#include "cfg_table.h"
#include "cfg_value.h"
#include "util.h"

static void
check_buckets(struct loader *ld)
{
	struct cfg_bucket	*b;
	struct origin		*o;
	size_t			 i;

	for (i = 0; i < ld->c->n_buckets; i++) {
		b = &ld->c->buckets[i];
		o = ld->bm[i].o;
		if (strcmp(b->name, "*") == 0) {
			if (b->upstream_bucket != NULL &&
			    *b->upstream_bucket != '\0')
				cfg_report(ld, &o[K_bucket_upstream_bucket],
				    "[bucket *] serves each bucket as itself: "
				    "upstream_bucket must be empty");
			free(b->upstream_bucket);
			b->upstream_bucket = NULL;
		} else if (b->upstream_bucket == NULL ||
		    *b->upstream_bucket == '\0') {
			free(b->upstream_bucket);
			b->upstream_bucket = cfg_xstrdup(ld, b->name);
		}
	}
}

static void
check_clients(struct loader *ld)
{
	const struct cfg	*c = ld->c;
	const struct cfg_client	*cl;
	const struct cfg_grant	*g;
	struct ent		*m;
	char			 where[ENV_NAME_MAX];
	size_t			 i, j;

	for (i = 0; i < c->n_clients; i++) {
		cl = &c->clients[i];
		m = &ld->cm[i];
		/* A key that was set but bad is reported already. */
		if (cl->access_key_id == NULL &&
		    !cfg_origin_set(&m->o[K_client_access_key_id]))
			cfg_report(ld, &m->at, "[client %s] has no "
			    "access_key_id%s", cl->name, m->at.env != NULL ?
			    " (S3INVAL_CLIENT_ACCESS_KEY_ID)" : "");
		if (cl->secret_access_key == NULL &&
		    !cfg_origin_set(&m->o[K_client_secret_access_key]))
			cfg_report(ld, &m->at, "[client %s] has no "
			    "secret_access_key%s", cl->name, m->at.env != NULL ?
			    " (S3INVAL_CLIENT_SECRET_ACCESS_KEY)" : "");
		for (j = 0; j < i && cl->access_key_id != NULL; j++) {
			if (c->clients[j].access_key_id == NULL ||
			    strcmp(c->clients[j].access_key_id,
			    cl->access_key_id) != 0)
				continue;
			cfg_origin_str(&ld->cm[j].o[K_client_access_key_id],
			    where, sizeof(where));
			cfg_report(ld, &m->o[K_client_access_key_id],
			    "access_key_id \"%s\" is also used by [client %s] "
			    "(at %s)", cl->access_key_id, c->clients[j].name,
			    where);
			break;
		}
		for (j = 0; j < cl->n_grants; j++) {
			g = &cl->grants[j];
			if (strcmp(g->bucket, "*") != 0 &&
			    cfg_bucket_find(c, g->bucket) == NULL)
				cfg_report(ld, &m->o[K_client_buckets],
				    "[client %s] grants bucket \"%s\", which "
				    "has no [bucket %s] section (nor is there "
				    "a [bucket *])", cl->name, g->bucket,
				    g->bucket);
		}
	}
}

/* What admin_start() and the front would refuse at start: the admin
 * listener off loopback without admin_allow_remote, or on the front's
 * own address. */
static void
check_admin_listen(struct loader *ld)
{
	const struct cfg	*c = ld->c;
	const struct origin	*o = ld->o;
	char			 host[256], fhost[256];
	unsigned		 port, fport;

	if (util_split_hostport(c->server.admin_listen, host, sizeof(host),
	    &port) == -1)
		return;		/* its own check says why */
	if (!util_is_loopback(host) && !c->server.admin_allow_remote)
		cfg_report(ld, &o[K_server_admin_listen], "admin_listen %s is "
		    "not a loopback address: set admin_allow_remote = yes to "
		    "bind it anyway (and admin_token, so that only you may "
		    "use it)", c->server.admin_listen);
	if (util_split_hostport(c->server.listen, fhost, sizeof(fhost),
	    &fport) == 0 && port != 0 && port == fport &&
	    (strcmp(host, fhost) == 0 || util_is_wildcard(host) ||
	    util_is_wildcard(fhost)))
		cfg_report(ld, &o[K_server_admin_listen], "admin_listen %s and "
		    "listen %s are the same port: give the admin listener "
		    "its own", c->server.admin_listen, c->server.listen);
}

void
cfg_check_all(struct loader *ld)
{
	const struct cfg	*c = ld->c;
	const struct origin	*o = ld->o;
	struct buf		 b;

	check_buckets(ld);
	check_clients(ld);

	if (*c->server.tls_cert != '\0' && *c->server.tls_key == '\0')
		cfg_report(ld, &o[K_server_tls_cert],
		    "tls_cert is set but tls_key is not");
	if (*c->server.tls_key != '\0' && *c->server.tls_cert == '\0')
		cfg_report(ld, &o[K_server_tls_key],
		    "tls_key is set but tls_cert is not");
	if (*c->server.admin_token != '\0' &&
	    *c->server.admin_token_file != '\0')
		cfg_report(ld, &o[K_server_admin_token_file],
		    "admin_token and admin_token_file are both set: keep one");
	if (c->server.max_header_size == 0)
		cfg_report(ld, &o[K_server_max_header_size],
		    "max_header_size must not be 0");
	if (c->server.max_connections == 0)
		cfg_report(ld, &o[K_server_max_connections],
		    "max_connections must be at least 1");
	if (c->cloudfront.quiet_period_ms > c->cloudfront.max_delay_ms) {
		buf_init(&b);
		cfg_value_fmt_duration(&b, c->cloudfront.quiet_period_ms);
		buf_puts(&b, ") must not be longer than max_delay (");
		cfg_value_fmt_duration(&b, c->cloudfront.max_delay_ms);
		cfg_report(ld, cfg_origin_set(&o[K_cloudfront_quiet_period]) ?
		    &o[K_cloudfront_quiet_period] :
		    &o[K_cloudfront_max_delay],
		    "quiet_period (%s)", buf_str(&b));
		buf_fini(&b);
	}
	if (!(c->cloudfront.max_requests_per_second > 0))
		cfg_report(ld, &o[K_cloudfront_max_requests_per_second],
		    "max_requests_per_second must be more than 0");
	if (c->cloudfront.give_up_after_ms < 1000)
		cfg_report(ld, &o[K_cloudfront_give_up_after],
		    "give_up_after must be at least 1s");
	if (c->cloudfront.wildcard_threshold < 2)
		cfg_report(ld, &o[K_cloudfront_wildcard_threshold],
		    "wildcard_threshold must be at least 2");
	check_admin_listen(ld);
	if (c->auth.mode == CFG_AUTH_SIGV4 && c->n_clients == 0)
		cfg_report(ld, &o[K_auth_mode],
		    "auth.mode = sigv4 but no [client] section");
}
