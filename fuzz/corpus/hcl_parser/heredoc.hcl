h = <<EOF
line
  two
EOF
i = <<-EOT
    a
      b
    EOT
