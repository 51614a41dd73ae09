# c
// d
/* e
 f */ a = 1
