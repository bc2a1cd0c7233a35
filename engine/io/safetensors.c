/* safetensors reading (validated) and writing (atomic).
 *
 * Layout: u64 little-endian header length N, N bytes of UTF-8 JSON (writers pad
 * it with spaces so the data section starts on an 8-byte boundary), then the
 * data section; each tensor's data_offsets are relative to its start. */
#include "sgad/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/error.h"
#include "file_open.h"

/* Tensor bytes are copied as they are: the file is little-endian, so is the host. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

/* The same limit as the reference implementation: a longer header is not a
 * safetensors file (or is hostile), and we must not allocate it. */
#define ST_MAX_HEADER 100000000ull
#define ST_MAX_DIMS 8

static const char *const dtype_names[] = {"F32", "I64", "F64", "I32", "U8"};
static const size_t dtype_sizes[] = {4, 8, 8, 4, 1};
#define ST_NUM_DTYPES (sizeof dtype_sizes / sizeof dtype_sizes[0])

size_t sg_st_dtype_size(sg_st_dtype dtype)
{
    return (unsigned)dtype < ST_NUM_DTYPES ? dtype_sizes[dtype] : 0;
}

static bool dtype_from_name(const char *name, sg_st_dtype *out)
{
    for (size_t i = 0; i < ST_NUM_DTYPES; i++)
        if (strcmp(name, dtype_names[i]) == 0) {
            *out = (sg_st_dtype)i;
            return true;
        }
    return false;
}

/* Bytes of a tensor of this shape and dtype; false on overflow. */
static bool shape_bytes(const int64_t *shape, int ndim, sg_st_dtype dtype, uint64_t *out)
{
    uint64_t n = sg_st_dtype_size(dtype);
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0 || __builtin_mul_overflow(n, (uint64_t)shape[i], &n))
            return false;
    *out = n;
    return true;
}

/* "[8, 3, 3, 3]" for messages (truncated if it does not fit). */
static const char *format_shape(char *buf, size_t size, const int64_t *shape, int ndim)
{
    size_t len = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (len < size)
        snprintf(buf + len, size - len, "]");
    return buf;
}

void sg_st_free(sg_st_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->count; i++) {
        free(f->tensors[i].name);
        free(f->tensors[i].data);
    }
    free(f->tensors);
    for (size_t i = 0; i < f->meta_count; i++) {
        free(f->meta_keys[i]);
        free(f->meta_values[i]);
    }
    free(f->meta_keys);
    free(f->meta_values);
    memset(f, 0, sizeof *f);
}

const sg_st_tensor *sg_st_find(const sg_st_file *f, const char *name)
{
    if (!f || !name)
        return NULL;
    for (size_t i = 0; i < f->count; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    return NULL;
}

const char *sg_st_meta(const sg_st_file *f, const char *key)
{
    if (!f || !key)
        return NULL;
    for (size_t i = 0; i < f->meta_count; i++)
        if (strcmp(f->meta_keys[i], key) == 0)
            return f->meta_values[i];
    return NULL;
}

/* ---- reading ---- */

/* pread until done; returns 0, or -1 with errno set (0 when the file ended early). */
static int pread_full(int fd, void *buf, size_t len, uint64_t offset)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t r = pread(fd, p, len, (off_t)offset);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = 0;
            return -1;
        }
        p += r;
        len -= (size_t)r;
        offset += (uint64_t)r;
    }
    return 0;
}

static sg_status read_error(const char *path, const char *what)
{
    if (errno == 0)
        return sg_fail(SG_ERR_IO, "%s: %s: unexpected end of file (was it changed while being read?)", path, what);
    return sg_fail(SG_ERR_IO, "%s: %s: %s", path, what, strerror(errno));
}

/* json-glib keeps only the last of duplicate keys, but it emits "object-member"
 * once per parsed member, after adding it: when an object's size is smaller
 * than the number of members parsed into it, the member just parsed replaced
 * an earlier one. The first duplicate is remembered. */
typedef struct dup_watch {
    GHashTable *parsed; /* JsonObject* -> members parsed so far */
    JsonObject *object;
    char *name;
} dup_watch;

static void on_object_member(JsonParser *parser, JsonObject *object, const char *name, gpointer data)
{
    (void)parser;
    dup_watch *w = data;
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(w->parsed, object)) + 1;
    g_hash_table_insert(w->parsed, object, GUINT_TO_POINTER(n));
    if (!w->name && json_object_get_size(object) < n) {
        w->object = object;
        w->name = g_strdup(name);
    }
}

static bool node_is_int(JsonNode *n)
{
    return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64;
}

static bool node_is_string(JsonNode *n)
{
    return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING;
}

/* Where a tensor's bytes lie in the data section. */
typedef struct st_range {
    uint64_t begin, end;
    size_t index;
} st_range;

static int compare_ranges(const void *a, const void *b)
{
    const st_range *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : 0;
}

/* Fill one tensor (all but data) from its header entry, checking it. */
static sg_status parse_tensor(const char *path, const char *name, JsonNode *node, uint64_t data_size,
                              sg_st_tensor *t, st_range *range)
{
    if (!JSON_NODE_HOLDS_OBJECT(node))
        return sg_fail(SG_ERR_FORMAT, "%s: tensor '%s': entry is not a JSON object", path, name);
    /* Other members are ignored, as the reference implementation does. */
    JsonObject *o = json_node_get_object(node);

    JsonNode *dtype = json_object_get_member(o, "dtype");
    if (!dtype || !node_is_string(dtype))
        return sg_fail(SG_ERR_FORMAT, "%s: tensor '%s': \"dtype\" is missing or not a string", path, name);
    if (!dtype_from_name(json_node_get_string(dtype), &t->dtype))
        return sg_fail(SG_ERR_FORMAT, "%s: tensor '%s': unsupported dtype '%s' (supported: F32, I64, F64, I32, U8)",
                       path, name, json_node_get_string(dtype));

    JsonNode *shape = json_object_get_member(o, "shape");
    if (!shape || !JSON_NODE_HOLDS_ARRAY(shape))
        return sg_fail(SG_ERR_FORMAT, "%s: tensor '%s': \"shape\" is missing or not a list", path, name);
    JsonArray *dims = json_node_get_array(shape);
    guint ndim = json_array_get_length(dims);
    if (ndim > ST_MAX_DIMS)
        return sg_fail(SG_ERR_FORMAT, "%s: tensor '%s': shape has %u dimensions; at most %d are supported",
                       path, name, ndim, ST_MAX_DIMS);
    t->ndim = (int)ndim;
    for (guint i = 0; i < ndim; i++) {
        /* json-glib wraps integers past INT64_MAX; whatever results is still
         * checked against the data below, so nothing out of bounds is read. */
        JsonNode *d = json_array_get_element(dims, i);
        if (!node_is_int(d) || json_node_get_int(d) < 0)
            return sg_fail(SG_ERR_FORMAT, "%s: tensor '%s': shape is not a list of non-negative integers",
                           path, name);
        t->shape[i] = json_node_get_int(d);
    }

    JsonNode *offsets = json_object_get_member(o, "data_offsets");
    JsonArray *pair = offsets && JSON_NODE_HOLDS_ARRAY(offsets) ? json_node_get_array(offsets) : NULL;
    if (!pair || json_array_get_length(pair) != 2 || !node_is_int(json_array_get_element(pair, 0)) ||
        !node_is_int(json_array_get_element(pair, 1)) || json_array_get_int_element(pair, 0) < 0 ||
        json_array_get_int_element(pair, 1) < 0)
        return sg_fail(SG_ERR_FORMAT, "%s: tensor '%s': \"data_offsets\" is missing or not a list of 2 "
                       "non-negative integers", path, name);
    uint64_t begin = (uint64_t)json_array_get_int_element(pair, 0);
    uint64_t end = (uint64_t)json_array_get_int_element(pair, 1);
    if (end < begin)
        return sg_fail(SG_ERR_FORMAT, "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] end before they begin",
                       path, name, begin, end);
    if (end > data_size)
        return sg_fail(SG_ERR_FORMAT, "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] go past the end of "
                       "the data section (%" PRIu64 " bytes; is the file truncated?)", path, name, begin, end, data_size);

    char dims_text[256];
    format_shape(dims_text, sizeof dims_text, t->shape, t->ndim);
    uint64_t bytes;
    if (!shape_bytes(t->shape, t->ndim, t->dtype, &bytes))
        return sg_fail(SG_ERR_FORMAT, "%s: tensor '%s': shape %s x %s is too large", path, name, dims_text,
                       dtype_names[t->dtype]);
    if (end - begin != bytes)
        return sg_fail(SG_ERR_FORMAT, "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] do not match shape "
                       "%s x %s = %" PRIu64 " bytes", path, name, begin, end, dims_text, dtype_names[t->dtype], bytes);
    t->nbytes = (size_t)bytes;
    range->begin = begin;
    range->end = end;
    return SG_OK;
}

static sg_status parse_metadata(const char *path, JsonNode *node, sg_st_file *out)
{
    if (!JSON_NODE_HOLDS_OBJECT(node))
        return sg_fail(SG_ERR_FORMAT, "%s: \"__metadata__\" is not a JSON object", path);
    JsonObject *o = json_node_get_object(node);
    size_t n = json_object_get_size(o);
    out->meta_keys = calloc(n ? n : 1, sizeof *out->meta_keys);
    out->meta_values = calloc(n ? n : 1, sizeof *out->meta_values);
    if (!out->meta_keys || !out->meta_values)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "%s: out of memory for the metadata", path);
    JsonObjectIter it;
    const char *key;
    JsonNode *value;
    json_object_iter_init_ordered(&it, o);
    while (json_object_iter_next_ordered(&it, &key, &value)) {
        if (!node_is_string(value))
            return sg_fail(SG_ERR_FORMAT, "%s: \"__metadata__\": the value of '%s' is not a string", path, key);
        size_t i = out->meta_count;
        out->meta_keys[i] = strdup(key);
        out->meta_values[i] = strdup(json_node_get_string(value));
        out->meta_count++; /* counted first, so sg_st_free releases a half-made pair */
        if (!out->meta_keys[i] || !out->meta_values[i])
            return sg_fail(SG_ERR_OUT_OF_MEMORY, "%s: out of memory for the metadata", path);
    }
    return SG_OK;
}

/* A safetensors header is an object of flat objects whose values are strings,
 * integers and arrays of integers: three levels. json-glib's parser recurses
 * once per level, so a header of 80,000 '[' overflows the stack; refuse deeper
 * nesting before it sees the text. Brackets inside strings do not count. */
#define ST_MAX_DEPTH 3

static sg_status check_nesting(const char *path, const char *text, size_t len)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++; /* whatever is escaped, it neither opens nor ends anything */
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > ST_MAX_DEPTH)
                return sg_fail(SG_ERR_FORMAT, "%s: the header nests deeper than a safetensors header can (more "
                               "than %d levels of objects and arrays at byte %zu)", path, ST_MAX_DEPTH, 8 + i);
        } else if (c == '}' || c == ']') {
            depth--; /* unbalanced brackets are the JSON parser's to report */
        }
    }
    return SG_OK;
}

/* Parse and check the header; fills everything in out but the tensor data. */
static sg_status parse_header(const char *path, const char *text, size_t len, uint64_t data_size,
                              sg_st_file *out, st_range **ranges_out)
{
    if (!g_utf8_validate(text, (gssize)len, NULL))
        return sg_fail(SG_ERR_FORMAT, "%s: the header is not valid UTF-8 text", path);

    sg_status s = check_nesting(path, text, len);
    if (s != SG_OK)
        return s;
    st_range *ranges = NULL;
    dup_watch watch = {g_hash_table_new(NULL, NULL), NULL, NULL};
    JsonParser *parser = json_parser_new();
    g_signal_connect(parser, "object-member", G_CALLBACK(on_object_member), &watch);
    GError *error = NULL;
    if (!json_parser_load_from_data(parser, text, (gssize)len, &error)) {
        s = sg_fail(SG_ERR_FORMAT, "%s: the header is not valid JSON: %s", path, error->message);
        g_error_free(error);
        goto done;
    }
    JsonNode *root = json_parser_get_root(parser); /* NULL for an all-blank header */
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        s = sg_fail(SG_ERR_FORMAT, "%s: the header is not a JSON object", path);
        goto done;
    }
    JsonObject *top = json_node_get_object(root);

    if (watch.name) {
        const char *where = NULL;
        if (watch.object != top) {
            JsonObjectIter it;
            const char *name;
            JsonNode *node;
            json_object_iter_init_ordered(&it, top);
            while (!where && json_object_iter_next_ordered(&it, &name, &node))
                if (JSON_NODE_HOLDS_OBJECT(node) && json_node_get_object(node) == watch.object)
                    where = name;
        }
        if (watch.object == top && strcmp(watch.name, "__metadata__") == 0)
            s = sg_fail(SG_ERR_FORMAT, "%s: \"__metadata__\" appears twice", path);
        else if (watch.object == top)
            s = sg_fail(SG_ERR_FORMAT, "%s: duplicate tensor name '%s'", path, watch.name);
        else if (where && strcmp(where, "__metadata__") == 0)
            s = sg_fail(SG_ERR_FORMAT, "%s: \"__metadata__\": duplicate key '%s'", path, watch.name);
        else if (where)
            s = sg_fail(SG_ERR_FORMAT, "%s: tensor '%s': duplicate key '%s'", path, where, watch.name);
        else
            s = sg_fail(SG_ERR_FORMAT, "%s: duplicate key '%s' in the header", path, watch.name);
        goto done;
    }

    JsonNode *meta = json_object_get_member(top, "__metadata__");
    if (meta && (s = parse_metadata(path, meta, out)) != SG_OK)
        goto done;

    size_t n = json_object_get_size(top) - (meta ? 1 : 0);
    out->tensors = calloc(n ? n : 1, sizeof *out->tensors);
    ranges = calloc(n ? n : 1, sizeof *ranges);
    if (!out->tensors || !ranges) {
        s = sg_fail(SG_ERR_OUT_OF_MEMORY, "%s: out of memory for %zu tensor descriptions", path, n);
        goto done;
    }
    JsonObjectIter it;
    const char *name;
    JsonNode *node;
    json_object_iter_init_ordered(&it, top);
    while (json_object_iter_next_ordered(&it, &name, &node)) {
        if (strcmp(name, "__metadata__") == 0)
            continue;
        size_t i = out->count;
        sg_st_tensor *t = &out->tensors[i];
        if (!(t->name = strdup(name))) {
            s = sg_fail(SG_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
            goto done;
        }
        out->count++;
        ranges[i].index = i;
        if ((s = parse_tensor(path, name, node, data_size, t, &ranges[i])) != SG_OK)
            goto done;
    }

    /* Overlap: in order of begin, each non-empty range must start at or after
     * the furthest end so far. Empty tensors occupy no bytes. */
    qsort(ranges, out->count, sizeof *ranges, compare_ranges);
    const st_range *furthest = NULL;
    for (size_t i = 0; i < out->count; i++) {
        const st_range *r = &ranges[i];
        if (r->begin == r->end)
            continue;
        if (furthest && r->begin < furthest->end) {
            s = sg_fail(SG_ERR_FORMAT, "%s: tensors '%s' [%" PRIu64 ", %" PRIu64 "] and '%s' [%" PRIu64 ", %" PRIu64
                        "] overlap", path, out->tensors[furthest->index].name, furthest->begin, furthest->end,
                        out->tensors[r->index].name, r->begin, r->end);
            goto done;
        }
        if (!furthest || r->end > furthest->end)
            furthest = r;
    }

done:
    g_object_unref(parser);
    g_hash_table_destroy(watch.parsed);
    g_free(watch.name);
    if (s != SG_OK) {
        free(ranges);
        ranges = NULL;
    }
    *ranges_out = ranges;
    return s;
}

sg_status sg_st_read(const char *path, sg_st_file *out)
{
    if (!out)
        return sg_fail(SG_ERR_ARGUMENT, "sg_st_read: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path)
        return sg_fail(SG_ERR_ARGUMENT, "sg_st_read: path is NULL");

    int fd;
    sg_status s = sg_open_regular(path, "checkpoint", &fd);
    if (s != SG_OK)
        return s;
    char *header = NULL;
    st_range *ranges = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        s = read_error(path, "cannot read its size");
        goto done;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < 8) {
        s = sg_fail(SG_ERR_FORMAT, "%s: the file is %" PRIu64 " bytes long, shorter than the 8-byte header length",
                    path, size);
        goto done;
    }
    uint8_t head[8];
    if (pread_full(fd, head, 8, 0) != 0) {
        s = read_error(path, "cannot read the header length");
        goto done;
    }
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--)
        header_len = header_len << 8 | head[i];
    if (header_len > ST_MAX_HEADER) {
        s = sg_fail(SG_ERR_FORMAT, "%s: header length %" PRIu64 " exceeds the %llu-byte limit (not a safetensors "
                    "file?)", path, header_len, ST_MAX_HEADER);
        goto done;
    }
    if (header_len > size - 8) {
        s = sg_fail(SG_ERR_FORMAT, "%s: header length %" PRIu64 " is larger than the rest of the file (%" PRIu64
                    " bytes; is the file truncated?)", path, header_len, size - 8);
        goto done;
    }
    if (!(header = malloc(header_len + 1))) {
        s = sg_fail(SG_ERR_OUT_OF_MEMORY, "%s: out of memory for a %" PRIu64 "-byte header", path, header_len);
        goto done;
    }
    if (pread_full(fd, header, header_len, 8) != 0) {
        s = read_error(path, "cannot read the header");
        goto done;
    }
    header[header_len] = '\0';
    uint64_t data_start = 8 + header_len;
    if ((s = parse_header(path, header, header_len, size - data_start, out, &ranges)) != SG_OK)
        goto done;

    for (size_t i = 0; i < out->count; i++) {
        sg_st_tensor *t = &out->tensors[ranges[i].index];
        /* Never NULL, even for an empty tensor, so callers need no special case. */
        if (!(t->data = malloc(t->nbytes ? t->nbytes : 1))) {
            s = sg_fail(SG_ERR_OUT_OF_MEMORY, "%s: tensor '%s': out of memory for %zu bytes", path, t->name,
                        t->nbytes);
            goto done;
        }
        if (pread_full(fd, t->data, t->nbytes, data_start + ranges[i].begin) != 0) {
            char what[320];
            snprintf(what, sizeof what, "tensor '%s'", t->name);
            s = read_error(path, what);
            goto done;
        }
    }

done:
    close(fd);
    free(header);
    free(ranges);
    if (s != SG_OK)
        sg_st_free(out);
    return s;
}

/* ---- writing ---- */

static sg_status check_write_args(const char *path, const sg_st_tensor *tensors, size_t count,
                                  const char *const *meta_keys, const char *const *meta_values, size_t meta_count)
{
    if (!path || !path[0])
        return sg_fail(SG_ERR_ARGUMENT, "sg_st_write: path is NULL or empty");
    if (count && !tensors)
        return sg_fail(SG_ERR_ARGUMENT, "%s: %zu tensors but the array is NULL", path, count);
    if (meta_count && (!meta_keys || !meta_values))
        return sg_fail(SG_ERR_ARGUMENT, "%s: %zu metadata entries but a key or value array is NULL", path, meta_count);

    sg_status s = SG_OK;
    GHashTable *names = g_hash_table_new(g_str_hash, g_str_equal);
    for (size_t i = 0; i < count && s == SG_OK; i++) {
        const sg_st_tensor *t = &tensors[i];
        uint64_t bytes;
        char dims[256];
        if (!t->name || !g_utf8_validate(t->name, -1, NULL))
            s = sg_fail(SG_ERR_ARGUMENT, "%s: tensor %zu: name is NULL or not UTF-8", path, i);
        else if (strcmp(t->name, "__metadata__") == 0)
            s = sg_fail(SG_ERR_ARGUMENT, "%s: tensor %zu: the name \"__metadata__\" is reserved", path, i);
        else if (!g_hash_table_add(names, t->name))
            s = sg_fail(SG_ERR_ARGUMENT, "%s: duplicate tensor name '%s'", path, t->name);
        else if ((unsigned)t->dtype >= ST_NUM_DTYPES)
            s = sg_fail(SG_ERR_ARGUMENT, "%s: tensor '%s': invalid dtype %d", path, t->name, (int)t->dtype);
        else if (t->ndim < 0 || t->ndim > ST_MAX_DIMS)
            s = sg_fail(SG_ERR_ARGUMENT, "%s: tensor '%s': ndim %d is not in 0..%d", path, t->name, t->ndim,
                        ST_MAX_DIMS);
        else if (!shape_bytes(t->shape, t->ndim, t->dtype, &bytes) || bytes != t->nbytes)
            s = sg_fail(SG_ERR_ARGUMENT, "%s: tensor '%s': nbytes %zu does not match shape %s x %s", path, t->name,
                        t->nbytes, format_shape(dims, sizeof dims, t->shape, t->ndim), dtype_names[t->dtype]);
        else if (t->nbytes && !t->data)
            s = sg_fail(SG_ERR_ARGUMENT, "%s: tensor '%s': data is NULL", path, t->name);
    }
    g_hash_table_remove_all(names);
    for (size_t i = 0; i < meta_count && s == SG_OK; i++) {
        if (!meta_keys[i] || !meta_values[i] || !g_utf8_validate(meta_keys[i], -1, NULL) ||
            !g_utf8_validate(meta_values[i], -1, NULL))
            s = sg_fail(SG_ERR_ARGUMENT, "%s: metadata entry %zu: key or value is NULL or not UTF-8", path, i);
        else if (!g_hash_table_add(names, (gpointer)meta_keys[i]))
            s = sg_fail(SG_ERR_ARGUMENT, "%s: duplicate metadata key '%s'", path, meta_keys[i]);
    }
    g_hash_table_destroy(names);
    return s;
}

/* The JSON header, padded with spaces to a multiple of 8 bytes (so the data
 * section is 8-byte aligned after the 8-byte length). g_free the result. */
static char *build_header(const sg_st_tensor *tensors, size_t count, const char *const *meta_keys,
                          const char *const *meta_values, size_t meta_count, size_t *len_out)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    if (meta_count) {
        json_builder_set_member_name(b, "__metadata__");
        json_builder_begin_object(b);
        for (size_t i = 0; i < meta_count; i++) {
            json_builder_set_member_name(b, meta_keys[i]);
            json_builder_add_string_value(b, meta_values[i]);
        }
        json_builder_end_object(b);
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < count; i++) {
        const sg_st_tensor *t = &tensors[i];
        json_builder_set_member_name(b, t->name);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "dtype");
        json_builder_add_string_value(b, dtype_names[t->dtype]);
        json_builder_set_member_name(b, "shape");
        json_builder_begin_array(b);
        for (int d = 0; d < t->ndim; d++)
            json_builder_add_int_value(b, t->shape[d]);
        json_builder_end_array(b);
        json_builder_set_member_name(b, "data_offsets");
        json_builder_begin_array(b);
        json_builder_add_int_value(b, (gint64)offset);
        json_builder_add_int_value(b, (gint64)(offset + t->nbytes));
        json_builder_end_array(b);
        json_builder_end_object(b);
        offset += t->nbytes;
    }
    json_builder_end_object(b);

    JsonGenerator *gen = json_generator_new();
    JsonNode *root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    gsize len;
    gchar *json = json_generator_to_data(gen, &len);
    json_node_unref(root);
    g_object_unref(gen);
    g_object_unref(b);

    size_t padded = (len + 7) / 8 * 8;
    char *text = g_realloc(json, padded + 1);
    memset(text + len, ' ', padded - len);
    text[padded] = '\0';
    *len_out = padded;
    return text;
}

/* Mode for a new file: the old file's, else what open(0666) would give under
 * the umask (read from /proc, as umask() cannot be read without changing it). */
static mode_t new_file_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        return st.st_mode & 07777;
    mode_t mask = 022;
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[256];
        unsigned m;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "Umask: %o", &m) == 1) {
                mask = (mode_t)m;
                break;
            }
        fclose(f);
    }
    return 0666 & ~mask;
}

static int write_contents(FILE *f, const char *header, size_t header_len, const sg_st_tensor *tensors,
                          size_t count)
{
    uint8_t head[8];
    for (int i = 0; i < 8; i++)
        head[i] = (uint8_t)((uint64_t)header_len >> (8 * i));
    if (fwrite(head, 1, 8, f) != 8 || fwrite(header, 1, header_len, f) != header_len)
        return -1;
    for (size_t i = 0; i < count; i++)
        if (tensors[i].nbytes && fwrite(tensors[i].data, 1, tensors[i].nbytes, f) != tensors[i].nbytes)
            return -1;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        return -1;
    return 0;
}

sg_status sg_st_write(const char *path, const sg_st_tensor *tensors, size_t count,
                      const char *const *meta_keys, const char *const *meta_values,
                      size_t meta_count)
{
    sg_status s = check_write_args(path, tensors, count, meta_keys, meta_values, meta_count);
    if (s != SG_OK)
        return s;

    size_t header_len;
    char *header = build_header(tensors, count, meta_keys, meta_values, meta_count, &header_len);
    mode_t mode = new_file_mode(path);

    /* The temporary file lives next to the target so rename() stays within one
     * file system and is atomic. */
    size_t plen = strlen(path);
    char *tmp = malloc(plen + sizeof ".tmp-XXXXXX");
    if (!tmp) {
        g_free(header);
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp-XXXXXX", sizeof ".tmp-XXXXXX");
    int fd = mkstemp(tmp);
    if (fd < 0) {
        s = sg_fail(SG_ERR_IO, "%s: cannot create the temporary file %s: %s", path, tmp, strerror(errno));
        free(tmp);
        g_free(header);
        return s;
    }

    const char *step = "cannot set the permissions of";
    FILE *f = NULL;
    int ok = fchmod(fd, mode) == 0;
    if (ok) {
        step = "cannot open";
        f = fdopen(fd, "wb");
        ok = f != NULL;
    }
    if (ok) {
        step = "cannot write";
        errno = 0;
        ok = write_contents(f, header, header_len, tensors, count) == 0;
    }
    int err = errno ? errno : EIO;
    if (f) {
        /* fclose can report a late write error too; close only once either way. */
        int closed = fclose(f);
        if (ok && closed != 0) {
            ok = 0;
            err = errno ? errno : EIO;
        }
    } else {
        close(fd);
    }
    if (ok) {
        step = "cannot rename into place";
        ok = rename(tmp, path) == 0;
        err = errno;
    }
    g_free(header);
    if (!ok) {
        unlink(tmp);
        s = sg_fail(SG_ERR_IO, "%s: %s the temporary file %s: %s (the existing file, if any, is unchanged)", path,
                    step, tmp, strerror(err));
        free(tmp);
        return s;
    }
    free(tmp);

    /* Make the rename itself durable. Some file systems cannot sync a folder
     * (EINVAL); that is not an error for us. */
    char *dir = g_path_get_dirname(path);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || (fsync(dfd) != 0 && errno != EINVAL))
        s = sg_fail(SG_ERR_IO, "%s: written, but syncing the folder %s failed: %s", path, dir, strerror(errno));
    if (dfd >= 0)
        close(dfd);
    g_free(dir);
    return s;
}
