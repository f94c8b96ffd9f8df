/*
 * keel/keel.h - the umbrella header: include this one and get every public
 * keel module.
 */
#ifndef KEEL_H
#define KEEL_H

#include "keel/common.h"

#endif
