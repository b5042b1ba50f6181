/* SPDX-License-Identifier: MIT */
/* All library allocation goes through these, so tests can fail the Nth call. */
#pragma once

#include <stddef.h>

void *bridle__malloc(size_t n);
void *bridle__calloc(size_t n, size_t size);
void *bridle__realloc(void *p, size_t n);
char *bridle__strdup(const char *s);
char *bridle__strndup(const char *s, size_t n);

/* Test hook: make the nth allocation from now fail (0 disables). */
void bridle__alloc_fail_at(unsigned long n);
