x = "${env("HOME")}"
