module fdkit

go 1.19
