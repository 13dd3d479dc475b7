"""The parent side of a run, and the files it makes: a run folder's layout and lock
(folder), the records format (records), worker launches (launch), the runner that starts
and follows them (runner), what `detcost run` asks for (request), submitted jobs (executor)
and merging results of several machines (merge). Nothing here imports torch at module top
or anything of worker/: workers are processes."""
