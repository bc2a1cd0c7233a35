/* The shared device pool: a list of (selection, device, refcount) under one mutex. */
#include "device_pool.h"

#include <glib.h>

typedef struct {
    gchar *key;
    sg_device *dev;
    guint refs;
} PoolEntry;

static GMutex pool_lock;
static GSList *pool;

sg_status sgad_device_pool_acquire(const char *select, sg_device **out)
{
    const char *key = select ? select : "";
    sg_status s = SG_OK;
    g_mutex_lock(&pool_lock);
    for (GSList *l = pool; l; l = l->next) {
        PoolEntry *e = l->data;
        if (g_strcmp0(e->key, key) == 0) {
            e->refs++;
            *out = e->dev;
            g_mutex_unlock(&pool_lock);
            return SG_OK;
        }
    }
    /* created under the lock so two instances starting together share it */
    sg_device_options options = {.select = key[0] ? key : NULL};
    sg_device *dev = NULL;
    s = sg_device_create(&options, &dev);
    if (s == SG_OK) {
        PoolEntry *e = g_new0(PoolEntry, 1);
        e->key = g_strdup(key);
        e->dev = dev;
        e->refs = 1;
        pool = g_slist_prepend(pool, e);
        *out = dev;
    }
    g_mutex_unlock(&pool_lock);
    return s;
}

void sgad_device_pool_release(sg_device *dev)
{
    if (!dev)
        return;
    g_mutex_lock(&pool_lock);
    for (GSList *l = pool; l; l = l->next) {
        PoolEntry *e = l->data;
        if (e->dev != dev)
            continue;
        if (--e->refs == 0) {
            pool = g_slist_delete_link(pool, l);
            /* with SGAD_VALIDATION=1 a validation message is a bug: make tests fail; checked after the
             * destroy, which reports the Vulkan objects left alive */
            sg_device_destroy(e->dev);
            guint32 msgs = sg_validation_messages_in_process();
            if (msgs)
                g_critical("the Vulkan validation layer reported %u message(s) in this process", msgs);
            g_free(e->key);
            g_free(e);
        }
        break;
    }
    g_mutex_unlock(&pool_lock);
}

void sgad_device_pool_ref(sg_device *dev)
{
    g_mutex_lock(&pool_lock);
    for (GSList *l = pool; l; l = l->next) {
        PoolEntry *e = l->data;
        if (e->dev == dev)
            e->refs++;
    }
    g_mutex_unlock(&pool_lock);
}
