/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_plan: s3inval plan, a dry run of the worker's planning (DESIGN §6). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cmd.h"
#include "etag_index.h"
#include "inval_map.h"
#include "inval_plan.h"
#include "inval_worker.h"

extern char **environ;

/* s3inval plan [-c FILE] [--bucket NAME]: the worker's mapping and
 * planning on keys from stdin, a dry run. */
int
cmd_plan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bucket", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cfg		*cfg = NULL;
	const struct cfg_bucket	*bk = NULL;
	struct inval_map_cfg	 mc;
	struct inval_plan_params pp;
	struct inval_plan_result res;
	struct strvec		 keys, paths, known;
	struct etag_index	*idx = NULL;
	const char		*file = NULL, *name = NULL;
	char			*line = NULL;
	size_t			 cap = 0, i, k, nd;
	ssize_t			 n;
	int			 ch, rc = 2;

	strvec_init(&keys);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'b':
			name = optarg;
			break;
		default:
			fprintf(stderr, "usage: s3inval plan [-c FILE] "
			    "[--bucket NAME] < keys\n");
			return ch == 'h' ? 0 : 2;
		}
	}
	if (cfg_load(cfg_path(file), environ, stderr, &cfg) > 0)
		return 2;
	if (name != NULL)
		bk = cfg_bucket_find(cfg, name);
	else
		for (i = 0; i < cfg->n_buckets; i++)
			if (strcmp(cfg->buckets[i].name, "*") != 0) {
				if (bk != NULL) {
					fprintf(stderr, "s3inval plan: several "
					    "buckets: name one with --bucket\n");
					goto out;
				}
				bk = &cfg->buckets[i];
			}
	if (bk == NULL) {
		fprintf(stderr, "s3inval plan: no such bucket in the "
		    "configuration\n");
		goto out;
	}
	while ((n = getline(&line, &cap, stdin)) != -1) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n > 0 && strvec_push(&keys, line) == -1)
			goto out;
	}
	memset(&mc, 0, sizeof(mc));
	mc.origin_path = bk->origin_path != NULL ? bk->origin_path : "";
	mc.index_documents = (const char *const *)bk->index_documents;
	mc.n_index_documents = bk->n_index_documents;
	mc.index_without_slash = bk->index_without_slash;
	memset(&pp, 0, sizeof(pp));
	pp.wildcard_threshold = cfg->cloudfront.wildcard_threshold;
	pp.max_wildcards = 15;
	/* The index the daemon saved, if any: what wildcards would evict. */
	idx = etag_index_open(cfg->server.state_dir, 0);
	nd = bk->n_distributions > 0 ? bk->n_distributions : 1;
	for (i = 0; i < nd; i++) {
		strvec_init(&paths);
		strvec_init(&known);
		for (k = 0; k < keys.n; k++)
			if (inval_map_key(&mc, keys.v[k], &paths, NULL) == -1)
				goto out;
		strvec_sort_unique(&paths);
		if (bk->n_distributions > 0)
			inval_known_paths(cfg, idx, bk->distributions[i],
			    &known);
		pp.known = known.n > 0 ? (const char *const *)known.v : NULL;
		pp.n_known = known.n;
		pp.eviction_weight = cfg->cloudfront.eviction_weight;
		if (inval_plan(&pp, (const char *const *)paths.v, paths.n,
		    &res) == -1) {
			strvec_fini(&paths);
			strvec_fini(&known);
			goto out;
		}
		printf("# distribution %s: %zu keys, %zu paths -> %zu to "
		    "submit (%zu exact, %zu wildcard)",
		    bk->n_distributions > 0 ? bk->distributions[i] :
		    "(none configured)", keys.n, paths.n, res.paths.n,
		    res.n_exact, res.n_wildcards);
		if (known.n > 0)
			printf(", %zu unchanged objects evicted of %zu known",
			    res.n_evicted, known.n);
		else
			printf(", no index: threshold rule");
		printf("; $%.3f beyond the free tier\n",
		    (double)res.paths.n * 0.005);
		for (k = 0; k < res.paths.n; k++)
			printf("%s\n", res.paths.v[k]);
		inval_plan_fini(&res);
		strvec_fini(&paths);
		strvec_fini(&known);
	}
	rc = 0;
out:
	etag_index_close(idx);
	free(line);
	strvec_fini(&keys);
	cfg_free(cfg);
	return rc;
}
