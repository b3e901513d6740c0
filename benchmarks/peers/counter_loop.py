from _timing import bench_main


def counter_loop(n):
    i = 0
    while True:
        i += 1
        if not i < n:
            return i


bench_main("counter_loop", 100000, counter_loop)
