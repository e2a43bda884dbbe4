#ifndef GRADC_NET_TRAIN
#define GRADC_NET_TRAIN
#endif
