trellis_fuzz(dns_message SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/dns_message.cc
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/dns_message LIBS trellis_dns)
