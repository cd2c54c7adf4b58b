/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * An intrusive, circular, doubly linked list, as in the kernel: a struct
 * list is both the head and the link embedded in each element; an empty
 * list (and an element in none) points at itself. list_entry() gets the
 * element back from its link.
 *
 *   struct item { int v; struct list link; };
 *   struct list items;  list_init(&items);
 *   list_add_tail(&items, &it->link);
 *   list_for_each_entry(it, &items, link) ...
 */
#ifndef HTTPTRACE_LIST_H
#define HTTPTRACE_LIST_H

#include <stdbool.h>
#include <stddef.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct list {
	struct list *prev, *next;
};

static inline void list_init(struct list *l)
{
	l->prev = l->next = l;
}

static inline bool list_empty(const struct list *head)
{
	return head->next == head;
}

static inline void list_insert_between(struct list *n, struct list *prev,
				       struct list *next)
{
	n->prev = prev;
	n->next = next;
	prev->next = n;
	next->prev = n;
}

/* n becomes the first element */
static inline void list_add_head(struct list *head, struct list *n)
{
	list_insert_between(n, head, head->next);
}

/* n becomes the last element */
static inline void list_add_tail(struct list *head, struct list *n)
{
	list_insert_between(n, head->prev, head);
}

/* Takes n out of its list; n is then an empty list of its own, so a
 * second list_del() is harmless. */
static inline void list_del(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

/* The first and last links, or NULL when the list is empty. */
static inline struct list *list_first(const struct list *head)
{
	return list_empty(head) ? NULL : head->next;
}

static inline struct list *list_last(const struct list *head)
{
	return list_empty(head) ? NULL : head->prev;
}

/* The link after n, or NULL at the end. */
static inline struct list *list_next(const struct list *head,
				     const struct list *n)
{
	return n->next == head ? NULL : n->next;
}

#define list_entry(link, type, member) container_of(link, type, member)

/* The element of a link that may be NULL. */
#define list_entry_or_null(link, type, member)                               \
	({                                                                   \
		struct list *l_ = (link);                                    \
		l_ ? list_entry(l_, type, member) : (type *)NULL;            \
	})

#define list_first_entry(head, type, member)                                 \
	list_entry_or_null(list_first(head), type, member)

#define list_last_entry(head, type, member)                                  \
	list_entry_or_null(list_last(head), type, member)

/* Each element, first to last; the body must not remove pos (see
 * list_for_each_entry_safe()). */
#define list_for_each_entry(pos, head, member)                               \
	for (pos = list_entry((head)->next, __typeof__(*pos), member);       \
	     &pos->member != (head);                                         \
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))

/* Each element, first to last; the body may remove pos. */
#define list_for_each_entry_safe(pos, tmp, head, member)                     \
	for (pos = list_entry((head)->next, __typeof__(*pos), member),       \
	    tmp = list_entry(pos->member.next, __typeof__(*pos), member);    \
	     &pos->member != (head);                                         \
	     pos = tmp,                                                      \
	    tmp = list_entry(tmp->member.next, __typeof__(*pos), member))

#endif /* HTTPTRACE_LIST_H */
