/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg_ini: the configuration file: read whole, then parsed by libinih
 * through our own line reader, sections and keys handed to the table
 * (cfg_table.c).  Nothing of the environment (cfg_env.c) or of what a
 * value means (cfg_value.c).
 *
 * The file is read whole first, and only a regular file of at most
 * CFG_FILE_MAX bytes (a FIFO or a device would hang or never end).
 * libinih reads it through our own line reader, which counts lines,
 * rejects a line longer than libinih's buffer instead of letting libinih
 * split it, and follows libinih's rules to know each line's section and
 * whether it continues the previous value (libinih tells its handler
 * neither the line number nor about a section without keys).  Indented
 * lines continue a value, as in Python's configparser; only lists may be
 * continued.  The file holds the client secrets: its bytes and libinih's
 * line buffer are wiped.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cfg.h"
#include "cfg_loader.h"
#include "cfg_table.h"
#include "cfg_value.h"

/*
 * Longest line accepted, without its line ending: libinih needs room for
 * "\r\n" and the NUL after it (ini.h).
 */
#define LINE_MAX_LEN	(INI_MAX_LINE - 3)

/* text: what is between '[' and ']' on line ld->lineno. */
static void
on_section(struct loader *ld, const char *text)
{
	struct origin	 at = { ld->lineno, NULL };
	const char	*type, *name, *end, *g;
	size_t		 tlen, nlen, idx;
	enum scope	 sc;

	ld->prev = -1;
	ld->ctx = CTX_SKIP;
	type = text;
	while (isspace((unsigned char)*type))
		type++;
	end = type + strlen(type);
	while (end > type && isspace((unsigned char)end[-1]))
		end--;
	for (tlen = 0; type + tlen < end &&
	    !isspace((unsigned char)type[tlen]); tlen++)
		continue;
	name = type + tlen;
	while (name < end && isspace((unsigned char)*name))
		name++;
	nlen = (size_t)(end - name);

	g = cfg_table_section(type, tlen);
	if (g != NULL) {
		if (nlen > 0) {
			cfg_report(ld, &at, "section [%s] takes no name", g);
			return;
		}
		ld->ctx = CTX_GLOBAL;
		ld->section = g;
		return;
	}
	if (tlen == 6 && strncmp(type, "client", 6) == 0)
		sc = SCOPE_CLIENT;
	else if (tlen == 6 && strncmp(type, "bucket", 6) == 0)
		sc = SCOPE_BUCKET;
	else {
		cfg_report(ld, &at, "unknown section [%.*s]", (int)(end - type),
		    type);
		return;
	}
	if (nlen == 0) {
		cfg_report(ld, &at, "section [%.*s] needs a name, as [%s %s]",
		    (int)tlen, type, sc == SCOPE_CLIENT ? "client" : "bucket",
		    sc == SCOPE_CLIENT ? "deploy" : "blog");
		return;
	}
	if (!cfg_value_bucket(name, nlen) &&
	    !(sc == SCOPE_BUCKET && nlen == 1 && *name == '*')) {
		cfg_report(ld, &at, "bad name in [%.*s]: use letters, digits, "
		    "'.', '-' and '_'%s", (int)(end - type), type,
		    sc == SCOPE_BUCKET ? ", or *" : "");
		return;
	}
	if (cfg_add_ent(ld, sc, name, nlen, &at, &idx) == 0) {
		ld->ctx = sc == SCOPE_CLIENT ? CTX_CLIENT : CTX_BUCKET;
		ld->ent = idx;
	}
}

/* Where keys of the current section go; -1 when they go nowhere. */
static int
target(struct loader *ld, enum scope *sc, const char **section,
    void **base, struct origin **o)
{
	switch (ld->ctx) {
	case CTX_GLOBAL:
		*sc = SCOPE_GLOBAL;
		*section = ld->section;
		*base = ld->c;
		*o = ld->o;
		return 0;
	case CTX_CLIENT:
		*sc = SCOPE_CLIENT;
		*section = "client";
		*base = &ld->c->clients[ld->ent];
		*o = ld->cm[ld->ent].o;
		return 0;
	case CTX_BUCKET:
		*sc = SCOPE_BUCKET;
		*section = "bucket";
		*base = &ld->c->buckets[ld->ent];
		*o = ld->bm[ld->ent].o;
		return 0;
	case CTX_NONE:
	case CTX_SKIP:
		break;
	}
	return -1;
}

/* "name = value" on line ld->lineno. */
static void
on_pair(struct loader *ld, const char *name, const char *value)
{
	struct origin	 at = { ld->lineno, NULL };
	struct origin	*o;
	const char	*section;
	enum scope	 sc;
	void		*base;
	int		 k;

	ld->prev = -1;
	if (*name == '\0') {
		cfg_report(ld, &at, "missing key name before '='");
		return;
	}
	if (ld->ctx == CTX_NONE) {
		cfg_report(ld, &at, "key \"%s\" is outside any section", name);
		return;
	}
	if (target(ld, &sc, &section, &base, &o) == -1)
		return;
	k = cfg_table_find(sc, section, name);
	if (k == -1) {
		cfg_report(ld, &at, "unknown key \"%s\" in [%s%s%s]", name,
		    section, sc == SCOPE_GLOBAL ? "" : " ",
		    sc == SCOPE_GLOBAL ? "" : cfg_ent_name(ld->c, sc, ld->ent));
		return;
	}
	if (o[k].line > 0) {
		cfg_report(ld, &at, "duplicate key \"%s\" (first at line %d)",
		    name, o[k].line);
		return;
	}
	o[k] = at;
	cfg_table_set(ld, &cfg_keys[k], base, value, 0, &at);
	ld->prev = k;
}

/* An indented line on ld->lineno: more of the previous value. */
static void
on_cont(struct loader *ld)
{
	struct origin		 at = { ld->lineno, NULL };
	struct origin		*o;
	const struct keydef	*kd;
	const char		*section;
	enum scope		 sc;
	void			*base;

	if (ld->prev == -1 || target(ld, &sc, &section, &base, &o) == -1)
		return;
	kd = &cfg_keys[ld->prev];
	if (kd->type != T_IDS && kd->type != T_NAMES &&
	    kd->type != T_GRANTS) {
		cfg_report(ld, &at, "indented line continues the value of "
		    "\"%s\", which is not a list (unindent it?)", kd->name);
		return;
	}
	cfg_table_set(ld, kd, base, ld->cont, 1, &at);
}

static int
on_ini(void *arg, const char *section, const char *name, const char *value)
{
	struct loader	*ld = arg;

	(void)section;
	if (ld->kind == L_CONT)
		on_cont(ld);
	else
		on_pair(ld, name, value);
	return 1;
}

/* libinih's rule: an inline comment is a ';' after white space. */
static const char *
find_chars_or_comment(const char *s, const char *chars)
{
	int	 was_space;

	was_space = 0;
	while (*s != '\0' && (chars == NULL || strchr(chars, *s) == NULL) &&
	    !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static void
bad_line(struct loader *ld, const char *msg)
{
	struct origin	 at = { ld->lineno, NULL };

	cfg_report(ld, &at, "%s", msg);
	if (ld->first_bad == 0)
		ld->first_bad = ld->lineno;
	ld->kind = L_BAD;
}

/*
 * Sort the line libinih is about to parse the way libinih will, and act on
 * section headers now: libinih only calls us for keys.
 */
static void
classify(struct loader *ld, const char *line)
{
	struct origin	 at = { ld->lineno, NULL };
	char		 text[INI_MAX_LINE];
	const char	*start, *end, *p;
	size_t		 n;

	ld->kind = L_BLANK;
	start = line;
	if (ld->lineno == 1 && strncmp(start, "\xef\xbb\xbf", 3) == 0)
		start += 3;
	while (isspace((unsigned char)*start))
		start++;
	if (*start == '\0' || *start == ';' || *start == '#')
		return;
	if (ld->inih_prev && start > line) {
		ld->kind = L_CONT;
		end = find_chars_or_comment(start, NULL);
		while (end > start && isspace((unsigned char)end[-1]))
			end--;
		n = (size_t)(end - start);
		memcpy(ld->cont, start, n);
		ld->cont[n] = '\0';
		return;
	}
	if (*start == '[') {
		end = find_chars_or_comment(start + 1, "]");
		if (*end != ']') {
			bad_line(ld, "section header without a closing ']'");
			return;
		}
		ld->kind = L_SECTION;
		ld->inih_prev = 0;
		for (p = end + 1; isspace((unsigned char)*p); p++)
			continue;
		if (*p != '\0' && *p != ';')
			cfg_report(ld, &at, "unexpected text after ']' "
			    "(comments start with ';')");
		n = (size_t)(end - start - 1);
		memcpy(text, start + 1, n);
		text[n] = '\0';
		on_section(ld, text);
		return;
	}
	end = find_chars_or_comment(start, "=:");
	if (*end != '=' && *end != ':') {
		bad_line(ld, "expected \"key = value\", \"[section]\" or a "
		    "comment");
		return;
	}
	ld->kind = L_KEY;
	ld->inih_prev = end > start;
}

/*
 * libinih's reader: like fgets(), but counts lines, and refuses a line
 * that does not fit libinih's buffer (which libinih would cut in two) or
 * holds a NUL, passing libinih an empty line instead.
 */
static char *
read_line(char *str, int num, void *arg)
{
	struct loader	*ld = arg;
	struct origin	 at;
	size_t		 len, lim;
	int		 ch, any, over, nul;
	const char	*p;

	if (num < 4)
		return NULL;
	lim = (size_t)num - 3;
	if (lim > LINE_MAX_LEN)
		lim = LINE_MAX_LEN;
	len = 0;
	any = over = nul = 0;
	for (;;) {
		ch = ld->pos < ld->len ? (unsigned char)ld->data[ld->pos++] :
		    EOF;
		if (ch == EOF || ch == '\n')
			break;
		any = 1;
		if (ch == '\0')
			nul = 1;
		if (len < lim + 1)
			str[len++] = (char)ch;
		else
			over = 1;
	}
	if (ch == EOF && !any) {
		/* The buffer held the last line: maybe a secret. */
		OPENSSL_cleanse(str, (size_t)num);
		return NULL;
	}
	ld->lineno++;
	at.line = ld->lineno;
	at.env = NULL;
	if (!over && len > 0 && str[len - 1] == '\r')
		len--;
	if (over || len > lim || nul) {
		if (nul)
			cfg_report(ld, &at, "NUL character in line");
		else
			cfg_report(ld, &at, "line too long (more than %zu "
			    "characters)", lim);
		/* Keys after a lost section header go nowhere. */
		for (p = str; p < str + len && isspace((unsigned char)*p); p++)
			continue;
		if (p < str + len && *p == '[')
			ld->ctx = CTX_SKIP;
		ld->prev = -1;
		ld->kind = L_BLANK;
		str[0] = '\n';
		str[1] = '\0';
		return str;
	}
	str[len] = '\n';
	str[len + 1] = '\0';
	classify(ld, str);
	return str;
}

/* "a FIFO", "a directory", ... for "not a regular file" messages. */
static const char *
file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/*
 * Read the file whole into ld->data.  Only a regular file is read (issue
 * 13): a FIFO would block check-config and SIGHUP until a writer came,
 * /dev/zero would never end.  The open does not block (O_NONBLOCK: a FIFO
 * opens at once) and the type is checked on the descriptor read, so a file
 * swapped after a stat() changes nothing.  Returns 0, or -1 after
 * reporting.
 */
static int
read_file(struct loader *ld)
{
	struct stat	 st;
	ssize_t		 n;
	int		 fd, err;

	fd = open(ld->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		err = errno;
		/* A socket cannot be opened (ENXIO): say what it is. */
		if (stat(ld->path, &st) == 0 && !S_ISREG(st.st_mode))
			cfg_report(ld, NULL, "cannot read %s: a configuration "
			    "file must be a regular file",
			    file_kind(st.st_mode));
		else
			cfg_report(ld, NULL, "cannot open: %s", strerror(err));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		cfg_report(ld, NULL, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_report(ld, NULL, "cannot read %s: a configuration file "
		    "must be a regular file", file_kind(st.st_mode));
		goto fail;
	}
	if (st.st_size > CFG_FILE_MAX) {
		cfg_report(ld, NULL, "larger than %d KiB: not a configuration "
		    "file?", CFG_FILE_MAX / 1024);
		goto fail;
	}
	/* One byte more than allowed tells a file that grew meanwhile. */
	ld->data = malloc(CFG_FILE_MAX + 1);
	if (ld->data == NULL) {
		cfg_report_oom(ld);
		goto fail;
	}
	while (ld->len < CFG_FILE_MAX + 1) {
		n = read(fd, ld->data + ld->len, CFG_FILE_MAX + 1 - ld->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cfg_report(ld, NULL, "read error: %s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		ld->len += (size_t)n;
	}
	if (ld->len > CFG_FILE_MAX) {
		cfg_report(ld, NULL, "larger than %d KiB: not a configuration "
		    "file?", CFG_FILE_MAX / 1024);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

/* Returns 0, or -1 when the file could not be read at all. */
int
cfg_ini_load(struct loader *ld)
{
	struct origin	 at = { 0, NULL };
	int		 rc, unread;

	unread = read_file(ld) == -1;
	if (!unread) {
		/* For cfg_same_file(): the environment does not change in
		 * a running process, so the same bytes give the same
		 * configuration. */
		if (EVP_Digest(ld->data, ld->len, ld->c->file_sha256, NULL,
		    EVP_sha256(), NULL) != 1)
			cfg_report_oom(ld);
		ld->ctx = CTX_NONE;
		ld->prev = -1;
		rc = ini_parse_stream(read_line, ld, on_ini, ld);
		/* We report every syntax error; libinih only knows the
		 * first. */
		if (rc > 0 && rc != ld->first_bad) {
			at.line = rc;
			cfg_report(ld, &at, "syntax error");
		} else if (rc < 0)
			cfg_report(ld, NULL, "cannot parse (libinih error %d)",
			    rc);
	}
	/* The file holds the client secrets. */
	if (ld->data != NULL)
		OPENSSL_cleanse(ld->data, ld->len);
	free(ld->data);
	ld->data = NULL;
	ld->len = ld->pos = 0;
	return unread ? -1 : 0;
}
